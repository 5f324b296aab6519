// Package abi is everything on the plugin side that touches Falco's plugin C
// ABI; it is the only package of the plugin with cgo.
//
// C functions exported, and by what:
//
//	plugin-sdk-go pkg/sdk/symbols/info        plugin_get_required_api_version, plugin_get_id,
//	                                          plugin_get_name, plugin_get_description,
//	                                          plugin_get_contact, plugin_get_version,
//	                                          plugin_get_event_source,
//	                                          plugin_get_extract_event_sources,
//	                                          plugin_get_extract_event_types
//	pkg/sdk/symbols/initialize                plugin_init, plugin_destroy
//	pkg/sdk/symbols/initschema                plugin_get_init_schema
//	pkg/sdk/symbols/lasterr                   plugin_get_last_error
//	pkg/sdk/symbols/fields                    plugin_get_fields
//	pkg/sdk/symbols/open                      plugin_open, plugin_close
//	pkg/sdk/symbols/evtstr                    plugin_event_to_string
//	pkg/sdk/symbols/progress                  plugin_get_progress
//	pkg/sdk/symbols/listopen                  plugin_list_open_params
//	this package (metrics.go)                 plugin_get_metrics (API 3.6.0; the SDK has no package)
//	this package (nextbatch.c, nextbatch.go)  plugin_next_batch (in C: an idle call never enters Go)
//	this package (extract.c, extract.go)      plugin_extract_fields (in C: a repeated extraction
//	                                          of an event is answered from its value table
//	                                          without entering Go)
//
// The SDK's symbol packages are thin glue: they turn C arguments into calls
// on the state values this package provides (pluginState, instanceState),
// found through pkg/cgo handles. What the glue requires of the state, and
// what this package adds on top:
//
//   - State handles are small integers (cgo.Handle, at most 255 live), never
//     pointers; register.go refuses new states before the table is full,
//     because the SDK's NewHandle panics (killing Falco) when it is.
//   - Every callback the glue makes into this package recovers panics
//     (guard.go): a Go panic that crossed the C boundary would kill Falco.
//     It becomes SS_PLUGIN_FAILURE and the panic text is the last error.
//   - Event batches are preallocated C memory per open instance (batch.go),
//     written directly (no per-event allocation, no byte-by-byte copy).
//   - Extraction (extract.go): the first call for an event parses it once
//     and fills a per-state value table in C memory with the fields asked
//     for recently; later calls for that event are answered from the table
//     in C (extract.c). Values live in C arenas, written without allocating.
//   - The last error is never nil: the SDK glue calls Error() on it
//     unconditionally.
package abi
