package smtpsink

import (
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Header returns the parsed headers of the message.
func (m Message) Header() (mail.Header, error) {
	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	if err != nil {
		return nil, fmt.Errorf("parse mail: %w", err)
	}
	return msg.Header, nil
}

// Text returns the decoded text of every text/* part of the message
// (plain and HTML alike), joined by newlines.
func (m Message) Text() (string, error) {
	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	if err != nil {
		return "", fmt.Errorf("parse mail: %w", err)
	}
	var out strings.Builder
	err = collectText(&out, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return out.String(), err
}

func collectText(out *strings.Builder, contentType, encoding string, body io.Reader) error {
	if contentType == "" {
		contentType = "text/plain"
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("multipart: %w", err)
			}
			if err := collectText(out, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	if !strings.HasPrefix(mediaType, "text/") {
		return nil
	}
	switch strings.ToLower(encoding) {
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, &stripNewlines{r: body})
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("decode %s part: %w", mediaType, err)
	}
	out.Write(b)
	out.WriteString("\n")
	return nil
}

// stripNewlines drops CR and LF, which base64 bodies are wrapped with.
type stripNewlines struct{ r io.Reader }

func (s *stripNewlines) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != '\r' && c != '\n' {
			p[j] = c
			j++
		}
	}
	return j, err
}
