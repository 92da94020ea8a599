package qda

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
)

// namespace is hark's name-space UUID for GUIDs derived from its ids.
var namespace = [16]byte{0x6b, 0x1e, 0x4a, 0x4f, 0x0d, 0x2c, 0x5e, 0x31, 0x9a, 0x77, 0x3c, 0x1f, 0x82, 0x50, 0xe4, 0x2d}

// GUID returns a name-based UUID (version 5, RFC 9562) of the parts, joined
// with a separator that cannot occur in hark's ids: the same parts always
// give the same GUID, so an export of the same data is the same.
func GUID(parts ...string) string {
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte(strings.Join(parts, "\x1f")))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return strings.ToUpper(string(b[:]))
}

// CodeGUID is the GUID of the code with hark id id.
func CodeGUID(id string) string { return GUID("code", id) }
