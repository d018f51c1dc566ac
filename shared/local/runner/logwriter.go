package runner

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// maxLine is where an unterminated line is cut and forwarded anyway.
const maxLine = 64 << 10

// logSink serialises whole lines from all processes onto one writer.
type logSink struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *logSink) writeLine(prefix string, line []byte) {
	buf := make([]byte, 0, len(prefix)+len(line)+1)
	buf = append(buf, prefix...)
	buf = append(buf, line...)
	if len(line) == 0 || line[len(line)-1] != '\n' {
		buf = append(buf, '\n')
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = s.w.Write(buf) // a broken log destination must not break the function
}

// lineWriter is a process's stdout or stderr: it forwards complete lines
// with a prefix and keeps the output's tail for error reports. Write never
// fails, so a function is never hit by a broken log pipe.
type lineWriter struct {
	sink   *logSink
	prefix string
	tail   *tail

	mu  sync.Mutex
	buf []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.tail.write(p)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	done := 0
	for {
		i := bytes.IndexByte(l.buf[done:], '\n')
		if i < 0 {
			break
		}
		l.sink.writeLine(l.prefix, l.buf[done:done+i+1])
		done += i + 1
	}
	if len(l.buf)-done >= maxLine {
		l.sink.writeLine(l.prefix, l.buf[done:])
		done = len(l.buf)
	}
	l.buf = append(l.buf[:0], l.buf[done:]...) // keep only the unterminated rest
	return len(p), nil
}

// flush forwards an unterminated last line.
func (l *lineWriter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.sink.writeLine(l.prefix, l.buf)
		l.buf = nil
	}
}

// tail keeps the last max bytes written to it.
type tail struct {
	max int
	mu  sync.Mutex
	buf []byte
}

func (t *tail) write(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append([]byte(nil), t.buf[over:]...)
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// describe renders the tail for an error message, or "" when empty.
func (t *tail) describe() string {
	s := t.String()
	if s == "" {
		return ""
	}
	return "; last output:\n" + s
}
