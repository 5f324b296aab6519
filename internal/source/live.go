package source

import "fmt"

// openLive opens the live daemon source. Not implemented yet (issue 3): the
// endpoint is validated so that the error is about the missing feature, not
// the input.
func openLive(endpoint string, env Env) (Source, error) {
	return nil, fmt.Errorf("open params %q: the live Docker daemon source is not implemented yet; use file:///abs/path.jsonl to replay recorded events", endpoint)
}

// ListEndpoints returns the local daemon endpoints that exist on this host.
func ListEndpoints() []Endpoint {
	return nil
}
