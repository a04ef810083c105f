package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strings"
	"time"
)

// sessionCookie names the console's session cookie.
const sessionCookie = "newsflow_session"

// sessionTTL is how long a session lasts.
const sessionTTL = 12 * time.Hour

// session is what the signed session cookie holds: a random id (which the
// CSRF token is derived from), whether its holder logged in, and its end.
type session struct {
	id      [16]byte
	authed  bool
	expires time.Time
}

// sessions signs and checks session cookies. The key comes from the API
// token when there is one, so that sessions outlive a restart and work on
// every replica; a random one otherwise.
type sessions struct {
	key []byte
	now func() time.Time
}

func newSessions(token string) *sessions {
	key := make([]byte, 32)
	if token != "" {
		m := hmac.New(sha256.New, []byte(token))
		m.Write([]byte("newsflow console session key"))
		key = m.Sum(nil)
	} else {
		rand.Read(key)
	}
	return &sessions{key: key, now: time.Now}
}

func (s *sessions) mac(parts ...[]byte) []byte {
	m := hmac.New(sha256.New, s.key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// fresh returns a new session.
func (s *sessions) fresh(authed bool) session {
	ss := session{authed: authed, expires: s.now().Add(sessionTTL).Truncate(time.Second)}
	rand.Read(ss.id[:])
	return ss
}

// encode is id(16) authed(1) expires(8, Unix seconds), then its MAC.
func (s *sessions) encode(ss session) string {
	b := make([]byte, 25)
	copy(b, ss.id[:])
	if ss.authed {
		b[16] = 1
	}
	binary.BigEndian.PutUint64(b[17:], uint64(ss.expires.Unix()))
	return base64.RawURLEncoding.EncodeToString(b) + "." + base64.RawURLEncoding.EncodeToString(s.mac([]byte("session"), b))
}

// decode returns the session of a cookie value, and false if it is not
// one this console signed or it expired.
func (s *sessions) decode(v string) (session, bool) {
	data, sig, ok := strings.Cut(v, ".")
	if !ok {
		return session{}, false
	}
	b, err1 := base64.RawURLEncoding.DecodeString(data)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || len(b) != 25 || !hmac.Equal(mac, s.mac([]byte("session"), b)) {
		return session{}, false
	}
	var ss session
	copy(ss.id[:], b)
	ss.authed = b[16] == 1
	ss.expires = time.Unix(int64(binary.BigEndian.Uint64(b[17:])), 0)
	if !s.now().Before(ss.expires) {
		return session{}, false
	}
	return ss, true
}

// csrf is the token a session's forms carry.
func (s *sessions) csrf(ss session) string {
	return base64.RawURLEncoding.EncodeToString(s.mac([]byte("csrf"), ss.id[:]))
}

// checkCSRF reports whether the token is the session's.
func (s *sessions) checkCSRF(ss session, token string) bool {
	return subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf(ss))) == 1
}

// set sends the session's cookie.
func (s *sessions) set(w http.ResponseWriter, r *http.Request, ss session) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.encode(ss), Path: "/", Expires: ss.expires,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// get returns the request's session, and false if it has none.
func (s *sessions) get(r *http.Request) (session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false
	}
	return s.decode(c.Value)
}
