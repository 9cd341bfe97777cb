package blobtest

import (
	"encoding/xml"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// gofakes3 answers every browser's preflight with "anything goes" and has no bucket CORS
// configuration. S3 (and SeaweedFS) answer a preflight from the bucket's CORS rules and refuse it
// (403) when no rule matches or none is set, so a test on gofakes3 could never catch a bucket
// that browsers cannot upload to. cors keeps the bucket's rules (PUT/GET/DELETE ?cors, as the
// SDK's PutBucketCors sends them) and answers preflights and the CORS headers of responses by
// them, as S3 documents it; gofakes3's own CORS headers are dropped.

type corsRule struct {
	AllowedOrigins []string `xml:"AllowedOrigin"`
	AllowedMethods []string `xml:"AllowedMethod"`
	AllowedHeaders []string `xml:"AllowedHeader"`
	ExposeHeaders  []string `xml:"ExposeHeader"`
	MaxAgeSeconds  int      `xml:"MaxAgeSeconds"`
}

type corsConfig struct {
	XMLName xml.Name   `xml:"CORSConfiguration"`
	Rules   []corsRule `xml:"CORSRule"`
}

// wildcard matches s against a pattern with at most one "*", case-insensitively.
func wildcard(pattern, s string) bool {
	pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	before, after, found := strings.Cut(pattern, "*")
	if !found {
		return pattern == s
	}
	return len(s) >= len(before)+len(after) && strings.HasPrefix(s, before) && strings.HasSuffix(s, after)
}

func anyMatch(patterns []string, s string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return wildcard(p, s) })
}

// match is the first rule that allows origin, method and every one of headers.
func (c *corsConfig) match(origin, method string, headers []string) *corsRule {
	if c == nil {
		return nil
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		if !anyMatch(r.AllowedOrigins, origin) || !slices.Contains(r.AllowedMethods, method) {
			continue
		}
		ok := true
		for _, h := range headers {
			if h = strings.TrimSpace(h); h != "" && !anyMatch(r.AllowedHeaders, h) {
				ok = false
				break
			}
		}
		if ok {
			return r
		}
	}
	return nil
}

// cors serves the bucket's CORS configuration and applies it.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.URL.Query()["cors"]; ok && r.Header.Get("Authorization") != "" {
			s.corsConfig(w, r)
			return
		}
		origin := r.Header.Get("Origin")
		if r.Method == http.MethodOptions {
			s.mu.Lock()
			rule := s.corsRules.match(origin, r.Header.Get("Access-Control-Request-Method"),
				strings.Split(r.Header.Get("Access-Control-Request-Headers"), ","))
			s.mu.Unlock()
			if origin == "" || rule == nil {
				denied(w, "AccessForbidden", "CORSResponse: This CORS request is not allowed.")
				return
			}
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Methods", strings.Join(rule.AllowedMethods, ", "))
			if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
				h.Set("Access-Control-Allow-Headers", req)
			}
			if len(rule.ExposeHeaders) > 0 {
				h.Set("Access-Control-Expose-Headers", strings.Join(rule.ExposeHeaders, ", "))
			}
			if rule.MaxAgeSeconds > 0 {
				h.Set("Access-Control-Max-Age", strconv.Itoa(rule.MaxAgeSeconds))
			}
			h.Set("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
			w.WriteHeader(http.StatusOK)
			return
		}
		next.ServeHTTP(&corsWriter{ResponseWriter: w, s: s, origin: origin, method: r.Method}, r)
	})
}

func (s *Server) corsConfig(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPut:
		var c corsConfig
		b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil || xml.Unmarshal(b, &c) != nil || len(c.Rules) == 0 {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.corsRules = &c
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	case http.MethodGet:
		s.mu.Lock()
		c := s.corsRules
		s.mu.Unlock()
		if c == nil {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchCORSConfiguration</Code><Message>The CORS configuration does not exist</Message></Error>`))
			return
		}
		b, _ := xml.Marshal(c)
		w.Header().Set("Content-Type", "application/xml")
		_, _ = w.Write(b)
	case http.MethodDelete:
		s.mu.Lock()
		s.corsRules = nil
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// corsWriter replaces gofakes3's CORS headers with the ones the bucket's rules give.
type corsWriter struct {
	http.ResponseWriter
	s              *Server
	origin, method string
	wrote          bool
}

func (c *corsWriter) WriteHeader(code int) {
	if !c.wrote {
		c.wrote = true
		h := c.Header()
		for k := range h {
			if strings.HasPrefix(k, "Access-Control-") {
				h.Del(k)
			}
		}
		c.s.mu.Lock()
		rule := c.s.corsRules.match(c.origin, c.method, nil)
		c.s.mu.Unlock()
		if c.origin != "" && rule != nil {
			h.Set("Access-Control-Allow-Origin", c.origin)
			if len(rule.ExposeHeaders) > 0 {
				h.Set("Access-Control-Expose-Headers", strings.Join(rule.ExposeHeaders, ", "))
			}
			h.Add("Vary", "Origin")
		}
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *corsWriter) Write(b []byte) (int, error) {
	if !c.wrote {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(b)
}
