package tunnel

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestHeaderRoundTrip(t *testing.T) {
	for _, h := range []Header{
		{Kind: KindSSH, User: "alice"},
		{Kind: KindSSH, User: "bob", SessionID: "0123456789abcdef"},
		{Kind: KindTCP, User: "carol", SessionID: "s", Port: 1},
		{Kind: KindTCP, User: strings.Repeat("u", MaxUserLen), SessionID: strings.Repeat("s", MaxSessionIDLen), Port: 65535},
		{Kind: KindControl},
		{Kind: KindControl, User: "dave", SessionID: "req-1"},
		{Kind: KindConn, User: "erin", SessionID: "c1"},
		{Kind: KindChannel, User: "erin", SessionID: "c1"},
	} {
		var buf bytes.Buffer
		if err := WriteHeader(&buf, h); err != nil {
			t.Fatalf("WriteHeader(%+v): %v", h, err)
		}
		buf.WriteString("rest") // the stream's payload follows the header
		got, err := ReadHeader(&buf)
		if err != nil {
			t.Fatalf("ReadHeader(%+v): %v", h, err)
		}
		if got != h {
			t.Fatalf("round trip: got %+v, want %+v", got, h)
		}
		if buf.String() != "rest" {
			t.Fatalf("ReadHeader consumed payload; left %q", buf.String())
		}
	}
}

func TestHeaderValidate(t *testing.T) {
	for name, h := range map[string]Header{
		"unknown kind":     {Kind: 9, User: "alice"},
		"conn no session":  {Kind: KindConn, User: "alice"},
		"channel port":     {Kind: KindChannel, User: "alice", SessionID: "s", Port: 22},
		"channel no user":  {Kind: KindChannel, SessionID: "s"},
		"control port":     {Kind: KindControl, Port: 1},
		"control bad user": {Kind: KindControl, User: "a b"},
		"zero kind":        {User: "alice"},
		"ssh with port":    {Kind: KindSSH, User: "alice", Port: 22},
		"tcp without port": {Kind: KindTCP, User: "alice"},
		"empty user":       {Kind: KindSSH},
		"long user":        {Kind: KindSSH, User: strings.Repeat("u", MaxUserLen+1)},
		"user with space":  {Kind: KindSSH, User: "al ice"},
		"user with nl":     {Kind: KindSSH, User: "alice\n"},
		"user non-ascii":   {Kind: KindSSH, User: "alicé"},
		"long session":     {Kind: KindSSH, User: "a", SessionID: strings.Repeat("s", MaxSessionIDLen+1)},
		"session ctrl":     {Kind: KindSSH, User: "a", SessionID: "s\x00"},
	} {
		if err := h.Validate(); !errors.Is(err, ErrBadHeader) {
			t.Errorf("%s: Validate = %v, want ErrBadHeader", name, err)
		}
		if err := WriteHeader(io.Discard, h); !errors.Is(err, ErrBadHeader) {
			t.Errorf("%s: WriteHeader = %v, want ErrBadHeader", name, err)
		}
	}
}

func TestReadHeaderRejects(t *testing.T) {
	good, err := Header{Kind: KindTCP, User: "alice", SessionID: "s1", Port: 80}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	with := func(i int, b byte) []byte { c := bytes.Clone(good); c[i] = b; return c }
	for name, raw := range map[string][]byte{
		"empty":              nil,
		"one byte":           {0},
		"length too small":   {0, 5, 1, 1, 0, 0, 0},
		"length too large":   {0xff, 0xff},
		"length over max":    {0, byte(maxHeaderBody + 1)},
		"body cut short":     good[:len(good)-1],
		"version 0":          with(2, 0),
		"version 2":          with(2, 2),
		"kind 0":             with(3, 0),
		"kind 9":             with(3, 9),
		"tcp port 0":         with(5, 0),
		"user len past body": with(6, 200),
		"empty user":         {0, 6, 1, 1, 0, 0, 0, 0},
		"trailing bytes":     append([]byte{0, byte(len(good) - 2 + 1)}, append(bytes.Clone(good[2:]), 'x')...),
		"session cut":        {0, 8, 1, 1, 0, 0, 1, 'a', 5, 'b'},
	} {
		_, err := ReadHeader(bytes.NewReader(raw))
		if !errors.Is(err, ErrBadHeader) {
			t.Errorf("%s: ReadHeader = %v, want ErrBadHeader", name, err)
		}
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindSSH: "ssh", KindTCP: "tcp", KindControl: "control", KindConn: "conn", KindChannel: "channel", 7: "Kind(7)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(k), got, want)
		}
	}
}

// countingReader counts what ReadHeader consumes.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func FuzzReadHeader(f *testing.F) {
	for _, h := range []Header{
		{Kind: KindSSH, User: "alice", SessionID: "abc"},
		{Kind: KindTCP, User: "bob", Port: 8080},
		{Kind: KindControl},
	} {
		b, err := h.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(append(b, "payload"...))
	}
	f.Add([]byte{0xff, 0xff})
	f.Add([]byte{0, 6, 1, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		cr := &countingReader{r: bytes.NewReader(data)}
		h, err := ReadHeader(cr)
		if err != nil {
			if !errors.Is(err, ErrBadHeader) {
				t.Fatalf("error %v does not wrap ErrBadHeader", err)
			}
			return
		}
		if err := h.Validate(); err != nil {
			t.Fatalf("ReadHeader returned an invalid header %+v: %v", h, err)
		}
		// Accepted input is exactly the canonical encoding, and nothing
		// after it was consumed.
		enc, err := h.MarshalBinary()
		if err != nil {
			t.Fatalf("re-encode %+v: %v", h, err)
		}
		if cr.n != len(enc) || !bytes.Equal(data[:cr.n], enc) {
			t.Fatalf("consumed %d bytes %x, canonical encoding is %x", cr.n, data[:cr.n], enc)
		}
	})
}
