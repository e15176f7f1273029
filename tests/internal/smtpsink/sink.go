// Package smtpsink is a minimal SMTP server that keeps every message it
// receives, so that a test can check the mail a homeserver sends. It speaks
// just enough of RFC 5321 for ordinary clients (EHLO/HELO, MAIL, RCPT, DATA,
// RSET, NOOP, QUIT), offers no STARTTLS and no AUTH, and delivers nothing.
package smtpsink

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// Message is one mail as received.
type Message struct {
	From string   // envelope sender (MAIL FROM)
	To   []string // envelope recipients (RCPT TO)
	Data string   // headers and body, dot-unstuffed, CRLF line ends
}

// Sink is a running SMTP server.
type Sink struct {
	ln     net.Listener
	mu     sync.Mutex
	msgs   []Message
	notify chan struct{}
	wg     sync.WaitGroup
}

// Listen starts a sink on addr (e.g. "172.18.0.1:0").
func Listen(addr string) (*Sink, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("smtp sink: %w", err)
	}
	s := &Sink{ln: ln, notify: make(chan struct{}, 1)}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Addr is the address the sink listens on.
func (s *Sink) Addr() *net.TCPAddr { return s.ln.Addr().(*net.TCPAddr) }

// Close stops the sink and waits for its connections to end.
func (s *Sink) Close() error {
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

// Messages returns what has been received so far.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// WaitFor waits until a message addressed to rcpt arrives.
func (s *Sink) WaitFor(ctx context.Context, rcpt string) (Message, error) {
	for {
		for _, m := range s.Messages() {
			for _, to := range m.To {
				if strings.EqualFold(to, rcpt) {
					return m, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return Message{}, fmt.Errorf("no mail for %s (%d other messages): %w", rcpt, len(s.Messages()), ctx.Err())
		case <-s.notify:
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *Sink) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer conn.Close()
			s.session(conn)
		}()
	}
}

func (s *Sink) session(conn net.Conn) {
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute))
	r := bufio.NewReader(conn)
	w := bufio.NewWriter(conn)
	reply := func(lines ...string) bool {
		for _, l := range lines {
			if _, err := w.WriteString(l + "\r\n"); err != nil {
				return false
			}
		}
		return w.Flush() == nil
	}
	if !reply("220 smtpsink ESMTP ready") {
		return
	}
	var cur Message
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			reply("250-smtpsink", "250-8BITMIME", "250 SIZE 10485760")
		case "HELO":
			reply("250 smtpsink")
		case "MAIL":
			cur = Message{From: address(arg)}
			reply("250 OK")
		case "RCPT":
			cur.To = append(cur.To, address(arg))
			reply("250 OK")
		case "DATA":
			if len(cur.To) == 0 {
				reply("503 RCPT first")
				continue
			}
			reply("354 end with <CRLF>.<CRLF>")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if strings.TrimRight(l, "\r\n") == "." {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			cur.Data = data.String()
			s.mu.Lock()
			s.msgs = append(s.msgs, cur)
			s.mu.Unlock()
			select {
			case s.notify <- struct{}{}:
			default:
			}
			cur = Message{}
			reply("250 OK: queued")
		case "RSET":
			cur = Message{}
			reply("250 OK")
		case "NOOP":
			reply("250 OK")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 command not implemented")
		}
	}
}

// address extracts the mailbox from "FROM:<a@b> SIZE=1" or "TO:<a@b>".
func address(arg string) string {
	if i := strings.IndexByte(arg, '<'); i >= 0 {
		if j := strings.IndexByte(arg[i:], '>'); j >= 0 {
			return arg[i+1 : i+j]
		}
	}
	_, v, _ := strings.Cut(arg, ":")
	return strings.TrimSpace(v)
}
