//go:build unix

package remote

import (
	"net"
	"syscall"
)

// quiet reports whether nothing is readable on c, an idle kept-alive
// connection, without blocking: no bytes (which would be taken for the
// next answer) and no end of stream (the server closed it). It reads at
// most one byte, and c is of no further use when it finds one.
func quiet(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var rerr error
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		_, rerr = syscall.Read(int(fd), b[:])
		return true // never wait for the descriptor to become readable
	})
	return err == nil && (rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK)
}
