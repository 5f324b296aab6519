// Package docgen renders README tables from what the built plugin reports
// (plugin_get_fields and plugin_get_init_schema), so that they are never
// maintained by hand. `make readme` writes them; a test fails when README
// differs from what the plugin reports.
package docgen

import (
	"encoding/json"
	"fmt"
	"github.com/falco-docker/docker-plugin/internal/fields"
	"strings"
)

// Markers delimit generated sections in README.md.
const (
	FieldsBegin = "<!-- BEGIN GENERATED: fields (make readme) -->"
	FieldsEnd   = "<!-- END GENERATED: fields -->"
	ConfigBegin = "<!-- BEGIN GENERATED: init config (make readme) -->"
	ConfigEnd   = "<!-- END GENERATED: init config -->"
)

type field struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Arg  struct {
		IsRequired bool `json:"isRequired"`
		IsIndex    bool `json:"isIndex"`
		IsKey      bool `json:"isKey"`
	} `json:"arg"`
	IsList     bool     `json:"isList"`
	Desc       string   `json:"desc"`
	Properties []string `json:"properties"`
}

func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}

// FieldsTable renders plugin_get_fields JSON as a Markdown table. The
// plugin API has no example member, so examples come from the field table
// the plugin is built from (internal/fields), matched by name.
func FieldsTable(fieldsJSON string) (string, error) {
	examples := map[string]string{}
	for _, f := range fields.Table {
		examples[f.Name] = f.Example
	}
	var fs []field
	if err := json.Unmarshal([]byte(fieldsJSON), &fs); err != nil {
		return "", fmt.Errorf("fields JSON: %w", err)
	}
	var b strings.Builder
	b.WriteString("| Field | Type | Argument | Example | Description |\n|---|---|---|---|---|\n")
	for _, f := range fs {
		arg := ""
		switch {
		case f.Arg.IsKey && f.Arg.IsIndex && f.Arg.IsRequired:
			arg = "key or index, required"
		case f.Arg.IsKey && f.Arg.IsRequired:
			arg = "key, required"
		case f.Arg.IsKey:
			arg = "key, optional"
		case f.Arg.IsIndex && f.Arg.IsRequired:
			arg = "index, required"
		case f.Arg.IsIndex:
			arg = "index, optional"
		}
		typ := f.Type
		if f.IsList {
			typ = "list of " + typ
		}
		desc := cell(f.Desc)
		for _, p := range f.Properties {
			if p == "addOutput" {
				desc += " *(suggested output)*"
			}
		}
		ex := ""
		if e := examples[f.Name]; e != "" {
			ex = "`" + cell(e) + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", f.Name, typ, arg, ex, desc)
	}
	return b.String(), nil
}

// ConfigTable renders the init schema's properties, in schema order.
func ConfigTable(schemaJSON string) (string, error) {
	var s struct {
		Properties json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal([]byte(schemaJSON), &s); err != nil {
		return "", fmt.Errorf("schema JSON: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(s.Properties)))
	if _, err := dec.Token(); err != nil {
		return "", fmt.Errorf("schema properties: %w", err)
	}
	var b strings.Builder
	b.WriteString("| Key | Type | Default | Description |\n|---|---|---|---|\n")
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", err
		}
		key, _ := tok.(string)
		var p struct {
			Type        string          `json:"type"`
			Default     json.RawMessage `json:"default"`
			Description string          `json:"description"`
			Minimum     *int64          `json:"minimum"`
			Maximum     *int64          `json:"maximum"`
			Enum        []string        `json:"enum"`
		}
		if err := dec.Decode(&p); err != nil {
			return "", fmt.Errorf("schema property %s: %w", key, err)
		}
		typ := p.Type
		if p.Minimum != nil && p.Maximum != nil {
			typ += fmt.Sprintf(" (%d..%d)", *p.Minimum, *p.Maximum)
		}
		if len(p.Enum) > 0 {
			typ += " (" + strings.Join(p.Enum, ", ") + ")"
		}
		fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s |\n", key, typ, string(p.Default), cell(p.Description))
	}
	return b.String(), nil
}

// Splice replaces the text between begin and end markers with body.
func Splice(doc, begin, end, body string) (string, error) {
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < 0 || j < i {
		return "", fmt.Errorf("markers %q ... %q not found in order", begin, end)
	}
	return doc[:i+len(begin)] + "\n" + body + doc[j:], nil
}

// Render returns doc with both generated sections refreshed.
func Render(doc, fieldsJSON, schemaJSON string) (string, error) {
	ft, err := FieldsTable(fieldsJSON)
	if err != nil {
		return "", err
	}
	ct, err := ConfigTable(schemaJSON)
	if err != nil {
		return "", err
	}
	if doc, err = Splice(doc, FieldsBegin, FieldsEnd, ft); err != nil {
		return "", err
	}
	return Splice(doc, ConfigBegin, ConfigEnd, ct)
}
