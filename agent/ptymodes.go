package agent

import "encoding/binary"

// ttyOp is one encoded terminal mode of a pty-req (RFC 4254 §8).
type ttyOp struct {
	op  byte
	val uint32
}

// parseModes decodes a pty-req's terminal modes. Opcodes 1..159 carry a
// uint32; 0 ends the list; 160 and above are undefined, so their argument
// length is unknown and parsing stops there, as sshd does.
func parseModes(b string) []ttyOp {
	var ops []ttyOp
	for len(b) >= 5 {
		op := b[0]
		if op == 0 || op >= 160 {
			break
		}
		ops = append(ops, ttyOp{op: op, val: binary.BigEndian.Uint32([]byte(b[1:5]))})
		b = b[5:]
	}
	return ops
}
