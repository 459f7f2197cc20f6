package agent

import (
	"os"

	"golang.org/x/sys/unix"
)

// RFC 4254 §8 opcodes mapped to Linux termios fields. Modes Linux lacks
// (VDSUSP, VSTATUS, VFLUSH) are ignored.
var (
	ttyChars = map[byte]int{
		1: unix.VINTR, 2: unix.VQUIT, 3: unix.VERASE, 4: unix.VKILL, 5: unix.VEOF,
		6: unix.VEOL, 7: unix.VEOL2, 8: unix.VSTART, 9: unix.VSTOP, 10: unix.VSUSP,
		12: unix.VREPRINT, 13: unix.VWERASE, 14: unix.VLNEXT, 16: unix.VSWTC, 18: unix.VDISCARD,
	}
	ttyIflags = map[byte]uint32{
		30: unix.IGNPAR, 31: unix.PARMRK, 32: unix.INPCK, 33: unix.ISTRIP, 34: unix.INLCR,
		35: unix.IGNCR, 36: unix.ICRNL, 37: unix.IUCLC, 38: unix.IXON, 39: unix.IXANY,
		40: unix.IXOFF, 41: unix.IMAXBEL, 42: unix.IUTF8,
	}
	ttyLflags = map[byte]uint32{
		50: unix.ISIG, 51: unix.ICANON, 52: unix.XCASE, 53: unix.ECHO, 54: unix.ECHOE,
		55: unix.ECHOK, 56: unix.ECHONL, 57: unix.NOFLSH, 58: unix.TOSTOP, 59: unix.IEXTEN,
		60: unix.ECHOCTL, 61: unix.ECHOKE, 62: unix.PENDIN,
	}
	ttyOflags = map[byte]uint32{
		70: unix.OPOST, 71: unix.OLCUC, 72: unix.ONLCR, 73: unix.OCRNL, 74: unix.ONOCR, 75: unix.ONLRET,
	}
	ttyCflags = map[byte]uint32{92: unix.PARENB, 93: unix.PARODD}
)

// applyModes sets the client's terminal modes on the tty before the
// program starts, so keys like erase behave as on the client's terminal.
func applyModes(tty *os.File, modes string) error {
	ops := parseModes(modes)
	if len(ops) == 0 {
		return nil
	}
	fd := int(tty.Fd())
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	set := func(flags *uint32, bit uint32, on bool) {
		if on {
			*flags |= bit
		} else {
			*flags &^= bit
		}
	}
	for _, o := range ops {
		on := o.val != 0
		if i, ok := ttyChars[o.op]; ok {
			if o.val <= 0xff {
				t.Cc[i] = uint8(o.val)
			}
			continue
		}
		if bit, ok := ttyIflags[o.op]; ok {
			set(&t.Iflag, bit, on)
		} else if bit, ok := ttyLflags[o.op]; ok {
			set(&t.Lflag, bit, on)
		} else if bit, ok := ttyOflags[o.op]; ok {
			set(&t.Oflag, bit, on)
		} else if bit, ok := ttyCflags[o.op]; ok {
			set(&t.Cflag, bit, on)
		} else if o.op == 90 && on { // CS7
			t.Cflag = t.Cflag&^unix.CSIZE | unix.CS7
		} else if o.op == 91 && on { // CS8
			t.Cflag = t.Cflag&^unix.CSIZE | unix.CS8
		}
	}
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}
