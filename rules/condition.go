package rules

// A small evaluator of the Falco condition language, the subset docker_rules.yaml
// uses, modelled on libsinsp's filter parser (userspace/libsinsp/filter/parser.cpp):
//
//	Expr      ::= OrExpr
//	OrExpr    ::= AndExpr ('or' AndExpr)*
//	AndExpr   ::= NotExpr ('and' NotExpr)*
//	NotExpr   ::= 'not' NotExpr | Check
//	Check     ::= '(' Expr ')' | Field Condition | MacroName
//	Field     ::= FieldName ['[' Arg ']']
//	Condition ::= 'exists' | CmpOp Value | ListOp '(' [Value (',' Value)*] ')'
//	CmpOp     ::= = == != < <= > >= contains icontains startswith endswith glob iglob
//	ListOp    ::= in intersects pmatch
//	Value     ::= quoted string | bare string ([^()"'\s=,]+)
//
// The scanner is driven by the parser (as libsinsp's is): what a run of characters
// is depends on where it stands (a field name, a macro name, an operator, a value).
// A bare list item naming a list is replaced by that list's items, recursively;
// a macro reference is replaced by the macro's compiled condition.
//
// Semantics follow libsinsp: a field with no value for the event makes every
// comparison false (only `exists` looks at presence), so `not <comparison>` is true
// then. Values come from the plugin's own code: internal/event parses the message
// and internal/fields.Extract produces each field's value.
//
// Compilation also type-checks each comparison against the field table: the field
// must exist, take a [key] argument iff the table says so, and the operator must fit
// its type (string operators on string fields, ordering on numeric fields, numeric
// operands that parse).

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/falco-docker/docker-plugin/internal/event"
	"github.com/falco-docker/docker-plugin/internal/fields"
)

// ---- values and sources

type fieldRef struct {
	def    fields.Field
	arg    string
	hasArg bool
}

func (f fieldRef) String() string {
	return FieldRef{Name: f.def.Name, Arg: f.arg, HasArg: f.hasArg}.String()
}

type value struct {
	s      string
	n      uint64
	num    bool
	b      bool
	isBool bool
}

func (v value) String() string {
	switch {
	case v.num:
		return strconv.FormatUint(v.n, 10)
	case v.isBool:
		return strconv.FormatBool(v.b)
	}
	return v.s
}

// fieldSource produces the values of a field for one event.
type fieldSource interface {
	values(f fieldRef) ([]value, error)
}

// eventSource extracts with the plugin's code: event.Event.Parse and
// fields.Extract.
type eventSource struct {
	ev event.Event
}

func newEventSource(line []byte) *eventSource {
	s := &eventSource{}
	s.ev.Parse(line)
	return s
}

// collectSink is a fields.Sink that copies what it receives (values alias the
// parsed event).
type collectSink struct{ vals []value }

func (c *collectSink) String(s string) { c.vals = append(c.vals, value{s: strings.Clone(s)}) }
func (c *collectSink) Uint64(v uint64) { c.vals = append(c.vals, value{n: v, num: true}) }
func (c *collectSink) Bool(v bool)     { c.vals = append(c.vals, value{b: v, isBool: true}) }

func (s *eventSource) values(f fieldRef) ([]value, error) {
	var sink collectSink
	if err := fields.Extract(uint64(f.def.ID), f.arg, f.hasArg, &s.ev, &sink); err != nil {
		return nil, err
	}
	return sink.vals, nil
}

// ---- compiled expressions

type expr interface {
	eval(src fieldSource) (bool, error)
}

type andExpr []expr
type orExpr []expr
type notExpr struct{ x expr }

type macroExpr struct {
	name string
	x    expr
}

type checkExpr struct {
	field    fieldRef
	op       string
	operands []string // one for comparison operators, the expanded list for list operators
	nums     []uint64 // operands parsed, for numeric fields
	bools    []bool   // operands parsed, for bool fields
}

func (a andExpr) eval(src fieldSource) (bool, error) {
	for _, x := range a {
		ok, err := x.eval(src)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func (o orExpr) eval(src fieldSource) (bool, error) {
	for _, x := range o {
		ok, err := x.eval(src)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

func (n notExpr) eval(src fieldSource) (bool, error) {
	ok, err := n.x.eval(src)
	return !ok, err
}

func (m macroExpr) eval(src fieldSource) (bool, error) { return m.x.eval(src) }

func (c *checkExpr) eval(src fieldSource) (bool, error) {
	vals, err := src.values(c.field)
	if err != nil {
		return false, fmt.Errorf("%s: %w", c.field, err)
	}
	if c.op == "exists" {
		return len(vals) > 0, nil
	}
	if c.field.def.IsList {
		// libsinsp on a list field: in holds when every value is in the
		// set, intersects when one is; no value fails both.
		if len(vals) == 0 {
			return false, nil
		}
		for _, v := range vals {
			in := c.match(v)
			if c.op == "intersects" && in {
				return true, nil
			}
			if c.op == "in" && !in {
				return false, nil
			}
		}
		return c.op == "in", nil
	}
	for _, v := range vals {
		if c.match(v) {
			return true, nil
		}
	}
	return false, nil // no value: the comparison fails, as in Falco
}

func (c *checkExpr) match(v value) bool {
	if c.field.def.Type == fields.Bool {
		if !v.isBool {
			return false
		}
		switch c.op {
		case "=", "==":
			return v.b == c.bools[0]
		case "!=":
			return v.b != c.bools[0]
		}
		return false
	}
	if isNumeric(c.field.def.Type) {
		if !v.num {
			return false
		}
		switch c.op {
		case "=", "==":
			return v.n == c.nums[0]
		case "!=":
			return v.n != c.nums[0]
		case "<":
			return v.n < c.nums[0]
		case "<=":
			return v.n <= c.nums[0]
		case ">":
			return v.n > c.nums[0]
		case ">=":
			return v.n >= c.nums[0]
		case "in", "intersects":
			return slices.Contains(c.nums, v.n)
		}
		return false
	}
	if v.num {
		return false
	}
	s := v.s
	switch c.op {
	case "=", "==":
		return s == c.operands[0]
	case "!=":
		return s != c.operands[0]
	case "contains":
		return strings.Contains(s, c.operands[0])
	case "icontains":
		return strings.Contains(strings.ToLower(s), strings.ToLower(c.operands[0]))
	case "startswith":
		return strings.HasPrefix(s, c.operands[0])
	case "endswith":
		return strings.HasSuffix(s, c.operands[0])
	case "glob":
		return fnmatch(c.operands[0], s)
	case "iglob":
		return fnmatch(strings.ToLower(c.operands[0]), strings.ToLower(s))
	case "in", "intersects":
		return slices.Contains(c.operands, s)
	case "pmatch":
		for _, p := range c.operands {
			if pathPrefixMatch(p, s) {
				return true
			}
		}
		return false
	}
	return false
}

func isNumeric(t fields.Type) bool { return t == fields.Uint64 || t == fields.AbsTime }

// ---- operators and type rules

var (
	stringOps  = []string{"contains", "icontains", "startswith", "endswith", "glob", "iglob"}
	orderOps   = []string{"<", "<=", ">", ">="}
	equalOps   = []string{"=", "==", "!="}
	listOps    = []string{"in", "intersects", "pmatch"}
	wordCmpOps = []string{"contains", "icontains", "startswith", "endswith", "glob", "iglob"}
	symbolOps  = []string{"==", "=", "!=", "<=", "<", ">=", ">"} // longest first
)

// checkBoolOperator: bool fields take =, == and != with true or false (a
// list field would take in and intersects only; there is no bool list).
func checkBoolOperator(f fields.Field, op string, operands []string) ([]bool, error) {
	switch op {
	case "exists":
		return nil, nil
	case "=", "==", "!=":
	default:
		return nil, fmt.Errorf("operator %s does not apply to %s, a bool (=, != true or false)", op, f.Name)
	}
	var out []bool
	for _, o := range operands {
		switch o {
		case "true":
			out = append(out, true)
		case "false":
			out = append(out, false)
		default:
			return nil, fmt.Errorf("%s is a bool: operand %q is neither true nor false", f.Name, o)
		}
	}
	return out, nil
}

// checkOperator reports whether op may be applied to field f with these operands.
func checkOperator(f fields.Field, op string, operands []string) ([]uint64, error) {
	numeric := isNumeric(f.Type)
	if f.IsList && op != "exists" && op != "in" && op != "intersects" {
		// libsinsp: "list filter ... only supports operators 'exists', 'in' and 'intersects'".
		return nil, fmt.Errorf("%s is a list: only exists, in and intersects apply, not %s", f.Name, op)
	}
	switch {
	case op == "exists":
		return nil, nil
	case slices.Contains(stringOps, op) || op == "pmatch":
		if f.Type != fields.String {
			return nil, fmt.Errorf("operator %s needs a string field, %s is %s", op, f.Name, f.Type)
		}
		return nil, nil
	case slices.Contains(orderOps, op):
		if !numeric {
			return nil, fmt.Errorf("operator %s needs a numeric field, %s is %s", op, f.Name, f.Type)
		}
	case slices.Contains(equalOps, op), op == "in", op == "intersects":
	default:
		return nil, fmt.Errorf("unsupported operator %q", op)
	}
	if !numeric {
		return nil, nil
	}
	nums := make([]uint64, 0, len(operands))
	for _, o := range operands {
		n, err := parseUint(o)
		if err != nil {
			return nil, fmt.Errorf("%s is %s: operand %q is not a number", f.Name, f.Type, o)
		}
		nums = append(nums, n)
	}
	return nums, nil
}

func parseUint(s string) (uint64, error) {
	if rest, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		return strconv.ParseUint(rest, 16, 64)
	}
	return strconv.ParseUint(s, 10, 64)
}

// ---- compilation environment

// env holds a rules file's lists and macros and compiles conditions against
// them and the plugin's field table.
type env struct {
	lists     map[string][]string
	macros    map[string]string
	fields    map[string]fields.Field
	compiled  map[string]expr
	compiling map[string]bool
	used      map[string]bool // lists and macros referenced by what was compiled
	checks    []*checkExpr    // every comparison compiled, for inspection
}

func newEnv(lists map[string][]string, macros map[string]string) *env {
	e := &env{
		lists:     lists,
		macros:    macros,
		fields:    map[string]fields.Field{},
		compiled:  map[string]expr{},
		compiling: map[string]bool{},
		used:      map[string]bool{},
	}
	for _, f := range fields.Table {
		e.fields[f.Name] = f
	}
	return e
}

func (e *env) compile(cond string) (expr, error) {
	p := &parser{env: e, s: cond}
	x, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	p.skipBlank()
	if p.pos != len(p.s) {
		return nil, p.errorf("unexpected %q", p.rest())
	}
	return x, nil
}

func (e *env) macro(name string) (expr, error) {
	if x, ok := e.compiled[name]; ok {
		return x, nil
	}
	cond, ok := e.macros[name]
	if !ok {
		return nil, fmt.Errorf("undefined macro %q", name)
	}
	if e.compiling[name] {
		return nil, fmt.Errorf("macro %q references itself", name)
	}
	e.compiling[name] = true
	defer delete(e.compiling, name)
	x, err := e.compile(cond)
	if err != nil {
		return nil, fmt.Errorf("macro %s: %w", name, err)
	}
	m := macroExpr{name: name, x: x}
	e.compiled[name] = m
	return m, nil
}

// expandList appends the items of list name, expanding items that name lists.
func (e *env) expandList(name string, out []string, seen map[string]bool) ([]string, error) {
	if seen[name] {
		return nil, fmt.Errorf("list %q references itself", name)
	}
	seen[name] = true
	defer delete(seen, name)
	e.used[name] = true
	for _, it := range e.lists[name] {
		if _, isList := e.lists[it]; isList {
			var err error
			if out, err = e.expandList(it, out, seen); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, unquoteItem(it))
	}
	return out, nil
}

// unquoteItem removes quotes an item carries in the YAML value itself
// (items: ['"sh -c"']), which Falco keeps as the quoted string's content.
func unquoteItem(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		if u, err := (&parser{s: s}).quoted(); err == nil {
			return u
		}
	}
	return s
}

// ---- parser (and its scanner)

var (
	rgxFieldName  = regexp.MustCompile(`^[a-zA-Z]+[a-zA-Z0-9_]*(\.[a-zA-Z]+[a-zA-Z0-9_]*)+`)
	rgxIdentifier = regexp.MustCompile(`^[a-zA-Z]+[a-zA-Z0-9_]*`)
	rgxBareStr    = regexp.MustCompile(`^[^()"'\s=,]+`)
	rgxFieldArg   = regexp.MustCompile(`^[^\]\["'\s]+`)
)

type parser struct {
	env   *env
	s     string
	pos   int
	depth int
}

const maxDepth = 200

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("at %d: %s (in %q)", p.pos, fmt.Sprintf(format, args...), p.s)
}

func (p *parser) rest() string { return p.s[p.pos:] }

func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func (p *parser) skipBlank() {
	for p.pos < len(p.s) && isBlank(p.s[p.pos]) {
		p.pos++
	}
}

// keyword consumes word when it stands alone: followed by a blank, by '(' when
// allowParen, or (for exists) by ')' or the end.
func (p *parser) keyword(word string, allowParen, allowEnd bool) bool {
	if !strings.HasPrefix(p.rest(), word) {
		return false
	}
	end := p.pos + len(word)
	if end == len(p.s) {
		if !allowEnd {
			return false
		}
	} else {
		c := p.s[end]
		switch {
		case isBlank(c):
		case c == '(' && allowParen:
		case c == ')' && allowEnd:
		default:
			return false
		}
	}
	p.pos = end
	return true
}

func (p *parser) parseExpr() (expr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errorf("nesting deeper than %d", maxDepth)
	}
	return p.parseOr()
}

func (p *parser) parseOr() (expr, error) {
	xs, err := p.parseChain("or", p.parseAnd)
	if err != nil {
		return nil, err
	}
	if len(xs) == 1 {
		return xs[0], nil
	}
	return orExpr(xs), nil
}

func (p *parser) parseAnd() (expr, error) {
	xs, err := p.parseChain("and", p.parseNot)
	if err != nil {
		return nil, err
	}
	if len(xs) == 1 {
		return xs[0], nil
	}
	return andExpr(xs), nil
}

// parseChain parses operand (keyword operand)*: the operands of one
// left-associative level of the grammar.
func (p *parser) parseChain(keyword string, operand func() (expr, error)) ([]expr, error) {
	x, err := operand()
	if err != nil {
		return nil, err
	}
	xs := []expr{x}
	for {
		p.skipBlank()
		if !p.keyword(keyword, true, false) {
			return xs, nil
		}
		x, err := operand()
		if err != nil {
			return nil, err
		}
		xs = append(xs, x)
	}
}

func (p *parser) parseNot() (expr, error) {
	p.skipBlank()
	if p.keyword("not", true, false) {
		x, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return notExpr{x}, nil
	}
	return p.parseCheck()
}

func (p *parser) parseCheck() (expr, error) {
	p.skipBlank()
	if p.pos >= len(p.s) {
		return nil, p.errorf("expected a condition, got the end")
	}
	if p.s[p.pos] == '(' {
		p.pos++
		x, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		p.skipBlank()
		if p.pos >= len(p.s) || p.s[p.pos] != ')' {
			return nil, p.errorf("expected ')'")
		}
		p.pos++
		return x, nil
	}
	if name := rgxFieldName.FindString(p.rest()); name != "" {
		p.pos += len(name)
		return p.parseCondition(name)
	}
	if id := rgxIdentifier.FindString(p.rest()); id != "" {
		switch id {
		case "and", "or", "not":
			return nil, p.errorf("unexpected %q", id)
		}
		p.pos += len(id)
		if p.env == nil {
			return nil, p.errorf("macro %q outside a rules file", id)
		}
		p.env.used[id] = true
		return p.env.macro(id)
	}
	return nil, p.errorf("expected a field, a macro or '(', got %q", p.rest())
}

func (p *parser) parseCondition(name string) (expr, error) {
	def, ok := p.env.fields[name]
	if !ok {
		return nil, p.errorf("unknown field %q (not in the plugin's field table)", name)
	}
	ref := fieldRef{def: def}
	if p.pos < len(p.s) && p.s[p.pos] == '[' {
		p.pos++
		var arg string
		if p.pos < len(p.s) && (p.s[p.pos] == '"' || p.s[p.pos] == '\'') {
			a, err := p.quoted()
			if err != nil {
				return nil, err
			}
			arg = a
		} else {
			arg = rgxFieldArg.FindString(p.rest())
			p.pos += len(arg)
		}
		if p.pos >= len(p.s) || p.s[p.pos] != ']' {
			return nil, p.errorf("expected ']' after the argument of %s", name)
		}
		p.pos++
		ref.arg, ref.hasArg = arg, true
	}
	switch {
	case ref.hasArg && !def.ArgRequired:
		return nil, p.errorf("field %s takes no argument, got [%s]", name, ref.arg)
	case !ref.hasArg && def.ArgRequired:
		return nil, p.errorf("field %s requires an argument, e.g. %s[key]", name, name)
	case ref.hasArg && ref.arg == "":
		return nil, p.errorf("field %s: empty argument", name)
	}

	p.skipBlank()
	op, operands, err := p.parseOperation()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := &checkExpr{field: ref, op: op, operands: operands}
	if def.Type == fields.Bool {
		c.bools, err = checkBoolOperator(def, op, operands)
	} else {
		c.nums, err = checkOperator(def, op, operands)
	}
	if err != nil {
		return nil, p.errorf("%v", err)
	}
	p.env.checks = append(p.env.checks, c)
	return c, nil
}

func (p *parser) parseOperation() (string, []string, error) {
	if p.keyword("exists", false, true) {
		return "exists", nil, nil
	}
	for _, op := range listOps {
		if p.keyword(op, true, false) {
			items, err := p.parseList()
			return op, items, err
		}
	}
	for _, op := range wordCmpOps {
		if p.keyword(op, false, false) {
			v, err := p.parseValue()
			return op, []string{v}, err
		}
	}
	for _, op := range symbolOps {
		if strings.HasPrefix(p.rest(), op) {
			p.pos += len(op)
			v, err := p.parseValue()
			return op, []string{v}, err
		}
	}
	return "", nil, p.errorf("expected an operator, got %q", p.rest())
}

func (p *parser) parseValue() (string, error) {
	p.skipBlank()
	if p.pos < len(p.s) && (p.s[p.pos] == '"' || p.s[p.pos] == '\'') {
		return p.quoted()
	}
	v := rgxBareStr.FindString(p.rest())
	if v == "" {
		return "", p.errorf("expected a value, got %q", p.rest())
	}
	p.pos += len(v)
	return v, nil
}

func (p *parser) parseList() ([]string, error) {
	p.skipBlank()
	if p.pos >= len(p.s) || p.s[p.pos] != '(' {
		return nil, p.errorf("expected '(' to open a list")
	}
	p.pos++
	var items []string
	for first := true; ; first = false {
		p.skipBlank()
		if p.pos < len(p.s) && p.s[p.pos] == ')' {
			p.pos++
			return items, nil
		}
		if !first {
			if p.pos >= len(p.s) || p.s[p.pos] != ',' {
				return nil, p.errorf("expected ',' or ')' in a list")
			}
			p.pos++
			p.skipBlank()
		}
		if p.pos < len(p.s) && (p.s[p.pos] == '"' || p.s[p.pos] == '\'') {
			v, err := p.quoted()
			if err != nil {
				return nil, err
			}
			items = append(items, v)
			continue
		}
		v := rgxBareStr.FindString(p.rest())
		if v == "" {
			return nil, p.errorf("expected a list item, got %q", p.rest())
		}
		p.pos += len(v)
		if p.env != nil {
			if _, isList := p.env.lists[v]; isList {
				var err error
				if items, err = p.env.expandList(v, items, map[string]bool{}); err != nil {
					return nil, err
				}
				continue
			}
		}
		items = append(items, v)
	}
}

// quoted reads a quoted string at pos with libsinsp's escapes.
func (p *parser) quoted() (string, error) {
	q := p.s[p.pos]
	p.pos++
	var b strings.Builder
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		p.pos++
		switch {
		case c == q:
			return b.String(), nil
		case c == '\\' && p.pos < len(p.s):
			e := p.s[p.pos]
			p.pos++
			switch e {
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '\\', '"', '\'':
				b.WriteByte(e)
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", p.errorf("unterminated string")
}

// ---- glob and pmatch

// fnmatch is fnmatch(3) with flags 0, as libsinsp's glob operator calls it:
// '*' and '?' match any character including '/', [...] is a bracket expression
// ('!' or '^' negates, ranges a-z), '\' escapes the next character.
func fnmatch(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for len(pattern) > 0 && pattern[0] == '*' {
				pattern = pattern[1:]
			}
			if pattern == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if fnmatch(pattern, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		case '[':
			if s == "" {
				return false
			}
			ok, rest, valid := matchBracket(pattern, s[0])
			if !valid { // no closing ']': a literal '['
				if s[0] != '[' {
					return false
				}
				pattern, s = pattern[1:], s[1:]
				continue
			}
			if !ok {
				return false
			}
			pattern, s = rest, s[1:]
		case '\\':
			if len(pattern) > 1 {
				pattern = pattern[1:]
			}
			fallthrough
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		}
	}
	return s == ""
}

// matchBracket matches c against the bracket expression that opens pattern.
func matchBracket(pattern string, c byte) (matched bool, rest string, valid bool) {
	i := 1
	negate := false
	if i < len(pattern) && (pattern[i] == '!' || pattern[i] == '^') {
		negate = true
		i++
	}
	first := true
	for i < len(pattern) {
		if pattern[i] == ']' && !first {
			return matched != negate, pattern[i+1:], true
		}
		first = false
		lo := pattern[i]
		if lo == '\\' && i+1 < len(pattern) {
			i++
			lo = pattern[i]
		}
		hi := lo
		if i+2 < len(pattern) && pattern[i+1] == '-' && pattern[i+2] != ']' {
			hi = pattern[i+2]
			i += 2
		}
		if lo <= c && c <= hi {
			matched = true
		}
		i++
	}
	return false, "", false
}

// splitPath splits on '/' and drops empty components, as libsinsp's
// path_prefix_map_ut::split_path.
func splitPath(s string) []string {
	var out []string
	for _, c := range strings.Split(s, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// pathPrefixMatch is libsinsp's pmatch for one search path: prefix is a prefix of
// s on component boundaries; a prefix component holding ?, * or [ is a glob for
// that component.
func pathPrefixMatch(prefix, s string) bool {
	pc, sc := splitPath(prefix), splitPath(s)
	if len(pc) > len(sc) {
		return false
	}
	for i, c := range pc {
		if strings.ContainsAny(c, "?*[") {
			if !fnmatch(c, sc[i]) {
				return false
			}
		} else if c != sc[i] {
			return false
		}
	}
	return true
}
