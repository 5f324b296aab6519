package fields

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// recordedLine is the first event of type typ and raw action that contains
// the text has, in the corpus recorded from a real engine by the tests'
// engine scenario (tests/testdata/engines/<engine>.jsonl).
func recordedLine(engine, typ, action, has string) string {
	path := filepath.Join("..", "..", "tests", "testdata", "engines", engine+".jsonl")
	data, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		var m struct{ Type, Action string }
		if json.Unmarshal([]byte(line), &m) == nil && m.Type == typ && m.Action == action && strings.Contains(line, has) {
			return line
		}
	}
	panic(fmt.Sprintf("%s: no %s %s event with %q", path, typ, action, has))
}
