package qda

import (
	"encoding/xml"
	"io"
)

// xw writes XML token by token, keeping the first error, so that a long
// document is never held in memory.
type xw struct {
	enc *xml.Encoder
	err error
}

func newXW(w io.Writer) *xw {
	x := &xw{enc: xml.NewEncoder(w)}
	x.enc.Indent("", " ")
	if _, err := io.WriteString(w, xml.Header); err != nil {
		x.err = err
	}
	return x
}

// attrs turns name, value pairs into attributes, leaving out empty values.
func attrs(kv []string) []xml.Attr {
	if len(kv) == 0 {
		return nil
	}
	out := make([]xml.Attr, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			out = append(out, xml.Attr{Name: xml.Name{Local: kv[i]}, Value: kv[i+1]})
		}
	}
	return out
}

func (x *xw) start(name string, kv ...string) {
	if x.err == nil {
		x.err = x.enc.EncodeToken(xml.StartElement{Name: xml.Name{Local: name}, Attr: attrs(kv)})
	}
}

func (x *xw) end(name string) {
	if x.err == nil {
		x.err = x.enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: name}})
	}
}

// empty writes an element without content.
func (x *xw) empty(name string, kv ...string) {
	x.start(name, kv...)
	x.end(name)
}

// text writes an element holding only text.
func (x *xw) text(name, s string, kv ...string) {
	x.start(name, kv...)
	if x.err == nil && s != "" {
		x.err = x.enc.EncodeToken(xml.CharData(s))
	}
	x.end(name)
}

// close flushes what is buffered and returns the first error.
func (x *xw) close() error {
	if x.err == nil {
		x.err = x.enc.Close()
	}
	return x.err
}
