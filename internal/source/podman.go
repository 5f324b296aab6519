package source

import (
	"github.com/docker/docker/api/types/filters"
)

// podmanEventNames maps the Docker event names an operator writes in the
// event filter to the names Podman's Docker-compatible endpoint filters on
// (measured on Podman 4.3: its stream says die and exec_died, but its filter
// matches its own libpod verbs). Both names are sent: the Docker one
// matches nothing there.
var podmanEventNames = map[string][]string{
	"die":         {"died"},
	"exec_die":    {"exec_died"},
	"exec_create": {"exec"},
	"exec_start":  {"exec"},
	"destroy":     {"remove"},
	"delete":      {"remove"},
	"load":        {"loadfromarchive"},
}

// filtersJSON encodes the operator's filters as the Engine API's filters
// parameter; extra, when set, adds the engine's own names for event
// filter values.
func filtersJSON(f map[string][]string, extra map[string][]string) (string, error) {
	args := filters.NewArgs()
	for k, vs := range f {
		for _, v := range vs {
			args.Add(k, v)
			if k == "event" {
				for _, x := range extra[v] {
					args.Add(k, x)
				}
			}
		}
	}
	return filters.ToJSON(args)
}
