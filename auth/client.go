package auth

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/harkworks/hark"
)

// ParseTrustedProxies reads a comma-separated list of the reverse proxies
// whose X-Forwarded-For and Forwarded headers are believed: CIDRs
// ("10.0.0.0/8") or single addresses ("127.0.0.1", "::1"). An empty list
// trusts none.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, hark.Errorf(hark.EINVALID, "trusted proxy %q is neither an address nor a CIDR: give e.g. 10.0.0.5 or 10.0.0.0/24, comma-separated", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// clientAddr is the address a request came from: the direct peer, or, when
// the peer is a trusted proxy, the last address before the trusted proxies
// in Forwarded (RFC 7239) or else X-Forwarded-For. A proxy appends the
// address it heard from, so the addresses a client wrote itself come first
// and are never taken while an untrusted one follows them.
func (s *Service) clientAddr(r *http.Request) string {
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	if !s.trusted(peer) {
		return peer
	}
	hops := forwardedFor(r.Header.Values("Forwarded"))
	if len(hops) == 0 {
		for _, v := range r.Header.Values("X-Forwarded-For") {
			for _, h := range strings.Split(v, ",") {
				hops = append(hops, strings.TrimSpace(h))
			}
		}
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			// Something a proxy did not write: the client is beyond it,
			// unknown; count it as the last proxy that spoke.
			return peer
		}
		if !s.trusted(a) {
			return a
		}
		peer = a
	}
	return peer
}

// trusted reports whether addr is one of the trusted proxies.
func (s *Service) trusted(addr string) bool {
	if len(s.cfg.TrustedProxies) == 0 {
		return false
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor returns the for= addresses of Forwarded headers, in order.
func forwardedFor(values []string) []string {
	var out []string
	for _, v := range values {
		for _, elem := range strings.Split(v, ",") {
			for _, pair := range strings.Split(elem, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(k, "for") {
					out = append(out, strings.Trim(val, `"`))
				}
			}
		}
	}
	return out
}

// parseHop reads one address of X-Forwarded-For or Forwarded: an IPv4 or
// IPv6 address, perhaps with a port, IPv6 perhaps in brackets.
func parseHop(h string) (string, bool) {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	a, err := netip.ParseAddr(h)
	if err != nil {
		return "", false
	}
	return a.Unmap().String(), true
}
