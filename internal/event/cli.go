package event

import (
	"slices"
	"strings"
	"time"

	"github.com/falco-docker/docker-plugin/internal/escape"
)

// cliTimeLayout is the Docker CLI's jsonmessage.RFC3339NanoFixed: always
// nine fractional digits, so lines sort and align.
const cliTimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// AppendCLI appends the one-line rendering `docker events` prints for this
// message to dst:
//
//	2022-02-08T10:58:56.370816183+01:00 container create e327f1fa52a9... (image=alpine, name=confident_kirch)
//
// Time is in the process's local zone, as the CLI prints it; attributes are
// sorted by key. Unlike the CLI, every string from the message is escaped
// (package escape: control characters, DEL and C1 controls become \n, \xHH,
// \u00HH...): labels and exec commands are controlled by whoever runs
// containers, and must not end the line, drive a terminal or hold a NUL. fallbackTS (ns) is used when the message has no time. scratch
// is reused for sorting attributes and returned for the next call.
func (e *Event) AppendCLI(dst []byte, fallbackTS uint64, scratch []Attr) ([]byte, []Attr) {
	ns, ok := e.TimeNano()
	if !ok {
		ns = fallbackTS
	}
	dst = time.Unix(0, int64(ns)).AppendFormat(dst, cliTimeLayout)
	if !e.valid {
		return append(dst, " <malformed event>"...), scratch
	}
	str := escape.Append
	if e.plain {
		str = appendString
	}
	dst = append(dst, ' ')
	dst = str(dst, e.typ.S)
	dst = append(dst, ' ')
	dst = str(dst, e.action.S)
	dst = append(dst, ' ')
	dst = str(dst, e.actorID.S)
	if len(e.attrs) > 0 {
		scratch = append(scratch[:0], e.attrs...)
		slices.SortStableFunc(scratch, func(a, b Attr) int { return strings.Compare(a.Key, b.Key) })
		dst = append(dst, " ("...)
		for i, a := range scratch {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = str(dst, a.Key)
			dst = append(dst, '=')
			dst = str(dst, a.Value)
		}
		dst = append(dst, ')')
	}
	return dst, scratch
}

func appendString(dst []byte, s string) []byte { return append(dst, s...) }

// Probe is the source side's cheap look at a message: whether it is a JSON
// object (valid) and its timestamp in nanoseconds (timeNano, else time * 1e9;
// hasTS false when neither is a usable integer). One pass, no allocation
// (see scanTop).
func Probe(data []byte) (ts uint64, hasTS bool, valid bool) {
	return scanTop(data)
}

// FormatNano renders ns like the CLI's timestamps (for tests and logs).
func FormatNano(ns uint64) string {
	return time.Unix(0, int64(ns)).Format(cliTimeLayout)
}
