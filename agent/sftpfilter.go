package agent

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path"
	"strings"
	"sync"
)

// SFTP packet types and status codes the filter reads or writes
// (draft-ietf-secsh-filexfer-02, OpenSSH's PROTOCOL).
const (
	fxpVersion  = 2
	fxpOpen     = 3
	fxpLstat    = 7
	fxpSetstat  = 9
	fxpOpendir  = 11
	fxpRemove   = 13
	fxpMkdir    = 14
	fxpRmdir    = 15
	fxpRealpath = 16
	fxpStat     = 17
	fxpRename   = 18
	fxpReadlink = 19
	fxpSymlink  = 20
	fxpStatus   = 101
	fxpName     = 104
	fxpExtended = 200

	fxOK           = 0
	fxNoSuchFile   = 2
	fxPermission   = 3
	fxFailure      = 4
	fxBadMessage   = 5
	maxSFTPPacket  = 4 << 20
	extExpandPath  = "expand-path@openssh.com"
	extExpandPathV = "1"
)

// pathFields is how many path strings follow the request id of a request
// whose paths the filter resolves; extPathFields the same for extended
// requests, after their name.
var (
	pathFields = map[byte]int{
		fxpOpen: 1, fxpLstat: 1, fxpSetstat: 1, fxpOpendir: 1, fxpRemove: 1, fxpMkdir: 1,
		fxpRmdir: 1, fxpRealpath: 1, fxpStat: 1, fxpRename: 2, fxpReadlink: 1,
	}
	extPathFields = map[string]int{
		"posix-rename@openssh.com": 2, "hardlink@openssh.com": 2, "statvfs@openssh.com": 1,
	}
)

// sftpFilter sits between the client and pkg/sftp's server. It gives `~`
// its meaning (the session's home) in every path, answers what pkg/sftp
// gets wrong for OpenSSH's clients — SSH_FXP_SYMLINK, whose target it
// would make absolute — and adds expand-path@openssh.com, which OpenSSH's
// scp needs for ~user paths.
type sftpFilter struct {
	home string // `~`, and the base of relative paths
	out  *sftpOut
}

// run reads the client's packets from r until it ends, answering some
// itself and passing the others, their paths resolved, to the server
// through toServer, which it closes at the end.
func (f *sftpFilter) run(r io.Reader, toServer *io.PipeWriter) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		pkt, err := readSFTPPacket(br)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			toServer.CloseWithError(err)
			return
		}
		if reply := f.answer(pkt); reply != nil {
			if err := f.out.writePacket(reply); err != nil {
				toServer.CloseWithError(err)
				return
			}
			continue
		}
		if _, err := toServer.Write(f.rewrite(pkt)); err != nil {
			return
		}
	}
}

// answer returns the filter's own reply to pkt, or nil to pass it on.
func (f *sftpFilter) answer(pkt []byte) []byte {
	typ := pkt[4]
	if typ != fxpSymlink && typ != fxpExtended {
		return nil
	}
	id, rest, ok := takeUint32(pkt[5:])
	if !ok {
		return nil // let the server reject it
	}
	if typ == fxpSymlink {
		// OpenSSH's order (PROTOCOL §4.1): target first, then the link.
		// The target is stored exactly as given: a relative link stays
		// relative.
		target, rest, ok1 := takeString(rest)
		link, _, ok2 := takeString(rest)
		if !ok1 || !ok2 {
			return statusPacket(id, fxBadMessage, "bad symlink request")
		}
		return statusFor(id, os.Symlink(target, f.resolve(link)))
	}
	name, rest, ok := takeString(rest)
	if !ok || name != extExpandPath {
		return nil
	}
	p, _, ok := takeString(rest)
	if !ok {
		return statusPacket(id, fxBadMessage, "bad expand-path request")
	}
	abs, err := f.expand(p)
	if err != nil {
		return statusPacket(id, fxNoSuchFile, err.Error())
	}
	return namePacket(id, abs)
}

// rewrite returns pkt with `~` resolved in its path fields.
func (f *sftpFilter) rewrite(pkt []byte) []byte {
	typ := pkt[4]
	skip := 4 // the request id
	n := pathFields[typ]
	if typ == fxpExtended {
		name, _, ok := takeString(pkt[9:])
		if !ok {
			return pkt
		}
		skip += 4 + len(name)
		n = extPathFields[name]
	}
	if n == 0 {
		return pkt
	}
	body := pkt[5+skip:]
	var fields []byte
	changed := false
	for range n {
		s, rest, ok := takeString(body)
		if !ok {
			return pkt
		}
		if t := f.tilde(s); t != s {
			s, changed = t, true
		}
		fields = appendString(fields, s)
		body = rest
	}
	if !changed {
		return pkt
	}
	out := make([]byte, 0, len(pkt)+len(f.home)*n)
	out = append(out, 0, 0, 0, 0)
	out = append(out, pkt[4:5+skip]...)
	out = append(out, fields...)
	out = append(out, body...)
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	return out
}

// tilde resolves a leading `~` or `~user` of p; anything else, or a user
// that does not exist, is returned unchanged.
func (f *sftpFilter) tilde(p string) string {
	if !strings.HasPrefix(p, "~") {
		return p
	}
	name, rest, _ := strings.Cut(p[1:], "/")
	home := f.home
	if name != "" {
		u, err := user.Lookup(name)
		if err != nil || u.HomeDir == "" {
			return p
		}
		home = u.HomeDir
	}
	if rest == "" {
		return home
	}
	return path.Join(home, rest)
}

// resolve is p as an absolute path: `~` resolved, relative to home.
func (f *sftpFilter) resolve(p string) string {
	p = f.tilde(p)
	if !path.IsAbs(p) {
		p = path.Join(f.home, p)
	}
	return path.Clean(p)
}

// expand answers expand-path@openssh.com like OpenSSH's sftp-server: `~`,
// `~/…` and `~user/…` expanded, relative paths made absolute.
func (f *sftpFilter) expand(p string) (string, error) {
	if strings.HasPrefix(p, "~") && f.tilde(p) == p {
		return "", fmt.Errorf("no such user: %s", strings.SplitN(p[1:], "/", 2)[0])
	}
	return f.resolve(p), nil
}

// sftpOut writes the server's packets and the filter's own, each whole.
// pkg/sftp writes a packet's header and payload in separate calls, so its
// bytes are gathered until a packet is complete.
type sftpOut struct {
	w   io.WriteCloser
	wmu sync.Mutex // one packet at a time on w
	bmu sync.Mutex // buf
	buf []byte
}

func (o *sftpOut) Write(p []byte) (int, error) {
	o.bmu.Lock()
	defer o.bmu.Unlock()
	o.buf = append(o.buf, p...)
	for len(o.buf) >= 4 {
		n := 4 + int(binary.BigEndian.Uint32(o.buf))
		if len(o.buf) < n {
			break
		}
		pkt := o.buf[:n]
		if n > 4 && pkt[4] == fxpVersion {
			pkt = withExtension(pkt, extExpandPath, extExpandPathV)
		}
		if err := o.writePacket(pkt); err != nil {
			return 0, err
		}
		o.buf = o.buf[:copy(o.buf, o.buf[n:])]
	}
	return len(p), nil
}

func (o *sftpOut) writePacket(pkt []byte) error {
	o.wmu.Lock()
	defer o.wmu.Unlock()
	_, err := o.w.Write(pkt)
	return err
}

func (o *sftpOut) Close() error { return o.w.Close() }

// withExtension is a VERSION packet with one more extension pair.
func withExtension(pkt []byte, name, data string) []byte {
	out := append([]byte(nil), pkt...)
	out = appendString(out, name)
	out = appendString(out, data)
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	return out
}

func readSFTPPacket(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 1 || n > maxSFTPPacket {
		return nil, fmt.Errorf("sftp packet of %d bytes", n)
	}
	pkt := make([]byte, 4+n)
	copy(pkt, hdr[:])
	if _, err := io.ReadFull(r, pkt[4:]); err != nil {
		return nil, fmt.Errorf("read sftp packet: %w", err)
	}
	return pkt, nil
}

func takeUint32(b []byte) (uint32, []byte, bool) {
	if len(b) < 4 {
		return 0, b, false
	}
	return binary.BigEndian.Uint32(b), b[4:], true
}

func takeString(b []byte) (string, []byte, bool) {
	n, rest, ok := takeUint32(b)
	if !ok || uint64(len(rest)) < uint64(n) {
		return "", b, false
	}
	return string(rest[:n]), rest[n:], true
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// packet frames typ, id and body as one SFTP packet.
func packet(typ byte, id uint32, body []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(1+4+len(body)))
	out = append(out, typ)
	out = binary.BigEndian.AppendUint32(out, id)
	return append(out, body...)
}

func statusPacket(id uint32, code uint32, msg string) []byte {
	body := binary.BigEndian.AppendUint32(nil, code)
	body = appendString(body, msg)
	body = appendString(body, "en")
	return packet(fxpStatus, id, body)
}

func statusFor(id uint32, err error) []byte {
	switch {
	case err == nil:
		return statusPacket(id, fxOK, "OK")
	case errors.Is(err, os.ErrNotExist):
		return statusPacket(id, fxNoSuchFile, err.Error())
	case errors.Is(err, os.ErrPermission):
		return statusPacket(id, fxPermission, err.Error())
	}
	return statusPacket(id, fxFailure, err.Error())
}

// namePacket is an SSH_FXP_NAME with one name and no attributes.
func namePacket(id uint32, name string) []byte {
	body := binary.BigEndian.AppendUint32(nil, 1)
	body = appendString(body, name)
	body = appendString(body, name)
	body = binary.BigEndian.AppendUint32(body, 0) // attribute flags: none
	return packet(fxpName, id, body)
}
