package config

import (
	"bytes"
	"encoding/json"
	"sort"
)

// Schema returns the JSON schema (draft-07) of the init configuration, as
// plugin_get_init_schema hands it to Falco. Every property carries title,
// description, default and examples (Falco's plugin best practices).
func Schema() string { return schemaJSON }

var schemaJSON = buildSchema()

func buildSchema() string {
	var b bytes.Buffer
	b.WriteString(`{"$schema":"http://json-schema.org/draft-07/schema#","$id":"https://github.com/falco-docker/docker-plugin/init-config","title":"docker plugin init configuration","description":"Init configuration of the docker plugin (libdocker.so). An empty string means all defaults.","type":"object","additionalProperties":false,"properties":{`)
	for i, o := range options {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSON(&b, o.key)
		b.WriteString(`:{`)
		switch o.kind {
		case kindInt:
			b.WriteString(`"type":"integer","minimum":`)
			writeJSON(&b, o.min)
			b.WriteString(`,"maximum":`)
			writeJSON(&b, o.max)
		case kindBool:
			b.WriteString(`"type":"boolean"`)
		case kindString:
			b.WriteString(`"type":"string"`)
			if len(o.enum) > 0 {
				b.WriteString(`,"enum":`)
				writeJSON(&b, o.enum)
			}
		case kindFilters:
			keys := append([]string(nil), FilterKeys...)
			sort.Strings(keys)
			b.WriteString(`"type":"object","additionalProperties":false,"properties":{`)
			for j, k := range keys {
				if j > 0 {
					b.WriteByte(',')
				}
				writeJSON(&b, k)
				if k == "type" {
					b.WriteString(`:{"type":"array","minItems":1,"items":{"type":"string","enum":`)
					writeJSON(&b, FilterTypes)
					b.WriteString(`}}`)
				} else {
					b.WriteString(`:{"type":"array","minItems":1,"items":{"type":"string","minLength":1}}`)
				}
			}
			b.WriteString(`}`)
		}
		b.WriteString(`,"title":`)
		writeJSON(&b, o.title)
		b.WriteString(`,"description":`)
		writeJSON(&b, o.desc)
		b.WriteString(`,"default":`)
		writeJSON(&b, o.def)
		b.WriteString(`,"examples":`)
		writeJSON(&b, o.examples)
		b.WriteByte('}')
	}
	b.WriteString(`}}`)
	return b.String()
}

func writeJSON(b *bytes.Buffer, v any) {
	enc, err := json.Marshal(v)
	if err != nil {
		panic("config schema: " + err.Error()) // static data: a failure is a programming error caught by tests
	}
	b.Write(enc)
}
