// Command readme refreshes README.md's generated tables from the built
// plugin: readme -so ./libdocker.so -readme README.md
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/falco-docker/docker-plugin/tests/docgen"
	"github.com/falco-docker/docker-plugin/tests/harness"
)

func main() {
	so := flag.String("so", "./libdocker.so", "plugin library")
	path := flag.String("readme", "README.md", "README to update")
	flag.Parse()
	p, err := harness.Load(*so)
	if err != nil {
		fmt.Fprintln(os.Stderr, "readme:", err)
		os.Exit(1)
	}
	doc, err := os.ReadFile(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "readme:", err)
		os.Exit(1)
	}
	schema, _ := p.InitSchema()
	out, err := docgen.Render(string(doc), p.FieldsJSON(), schema)
	if err != nil {
		fmt.Fprintln(os.Stderr, "readme:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*path, []byte(out), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "readme:", err)
		os.Exit(1)
	}
}
