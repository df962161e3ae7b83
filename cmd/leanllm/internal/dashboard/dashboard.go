package dashboard

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/leanllm/leanllm-go/cmd/leanllm/internal/collector"
	"github.com/leanllm/leanllm-go/cmd/leanllm/internal/view"
	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/persist"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// CookieName is the session cookie set by a login.
const CookieName = "leanllm_session"

// Config configures the dashboard.
type Config struct {
	// Reader serves every page's data.
	Reader persist.Reader
	// Stats returns the writer's delivery counters (nil: not shown).
	Stats func() persist.WriterStats
	// Metrics are the collector's counters (nil: not shown).
	Metrics *collector.Metrics
	// Ping checks the store (nil: not shown).
	Ping func(ctx context.Context) error
	// Keys and Protect: with Protect, pages need one of Keys.
	Keys    *collector.Keys
	Protect bool
	// DB is the database shown in the header (password removed).
	DB string
	// Collector describes the collector's state ("enabled, 2 keys").
	Collector string
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Logger receives page errors (nil: discard).
	Logger *slog.Logger
}

// Dashboard is the UI's http.Handler.
type Dashboard struct {
	cfg   Config
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// New parses the templates and returns the handler.
func New(cfg Config) (*Dashboard, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Dashboard{cfg: cfg, pages: map[string]*template.Template{}}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || name == "chart" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/chart.html", n)
		if err != nil {
			return nil, fmt.Errorf("dashboard: template %s: %w", name, err)
		}
		d.pages[name] = t
	}
	static, _ := fs.Sub(staticFS, "static")
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	mux.HandleFunc("GET /login", d.loginPage)
	mux.HandleFunc("POST /login", d.loginPost)
	mux.HandleFunc("GET /logout", d.logout)
	mux.Handle("GET /{$}", d.protect(d.overview))
	mux.Handle("GET /events", d.protect(d.events))
	mux.Handle("GET /events/{id}", d.protect(d.event))
	mux.Handle("GET /traces", d.protect(d.traces))
	mux.Handle("GET /traces/{id}", d.protect(d.trace))
	mux.Handle("/", d.protect(func(w http.ResponseWriter, r *http.Request) {
		d.fail(w, r, http.StatusNotFound, "There is no page at "+r.URL.Path+".")
	}))
	d.mux = mux
	return d, nil
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// ServeHTTP sets the security headers and routes the request.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	d.mux.ServeHTTP(w, r)
}

// Authorized reports whether r may see the dashboard: with Protect, a
// valid Bearer key or session cookie.
func (d *Dashboard) Authorized(r *http.Request) bool {
	if !d.cfg.Protect {
		return true
	}
	if d.cfg.Keys.ValidRequest(r) {
		return true
	}
	c, err := r.Cookie(CookieName)
	return err == nil && d.cfg.Keys.ValidSession(c.Value)
}

// protect wraps a page with the key check and the ?key= login.
func (d *Dashboard) protect(page http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !d.cfg.Protect {
			page(w, r)
			return
		}
		q := r.URL.Query()
		if q.Has("key") {
			key := q.Get("key")
			q.Del("key")
			u := *r.URL
			u.RawQuery = q.Encode()
			if d.login(w, r, key) {
				http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
				return
			}
			d.loginForm(w, r, http.StatusUnauthorized, u.RequestURI(), "That key is not valid.")
			return
		}
		if !d.Authorized(r) {
			d.loginForm(w, r, http.StatusUnauthorized, r.URL.RequestURI(), "")
			return
		}
		page(w, r)
	})
}

// login sets the session cookie when key is valid.
func (d *Dashboard) login(w http.ResponseWriter, r *http.Request, key string) bool {
	tok := d.cfg.Keys.SessionToken(key)
	if tok == "" {
		return false
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: tok, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode, MaxAge: 30 * 24 * 3600,
	})
	return true
}

func (d *Dashboard) loginPage(w http.ResponseWriter, r *http.Request) {
	if !d.cfg.Protect {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	d.loginForm(w, r, http.StatusOK, safeNext(r.URL.Query().Get("next")), "")
}

func (d *Dashboard) loginPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	next := safeNext(r.PostFormValue("next"))
	if !d.cfg.Protect {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	if d.login(w, r, r.PostFormValue("key")) {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	d.loginForm(w, r, http.StatusUnauthorized, next, "That key is not valid.")
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a redirect target on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}

type loginData struct {
	Next, Error string
}

func (d *Dashboard) loginForm(w http.ResponseWriter, r *http.Request, code int, next, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="leanllm"`)
	d.render(w, r, code, "login", "Log in", "", loginData{Next: safeNext(next), Error: msg})
}

// page is what the layout gets.
type page struct {
	Title     string
	Nav       string
	DB        string
	Collector string
	Protected bool
	Now       string
	Data      any
}

// render executes a page into a buffer first, so a template error never
// sends half a page.
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, code int, name, title, nav string, data any) {
	t := d.pages[name]
	p := page{Title: title, Nav: nav, DB: d.cfg.DB, Collector: d.cfg.Collector, Protected: d.cfg.Protect, Now: view.Time(d.cfg.Now()), Data: data}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		d.cfg.Logger.Error("dashboard: rendering", "page", name, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

type errorData struct {
	Code    int
	Message string
}

// fail renders an error page.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	d.render(w, r, code, "error", http.StatusText(code), "", errorData{Code: code, Message: msg})
}

// storeError renders a store failure.
func (d *Dashboard) storeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	d.cfg.Logger.Error("dashboard: store", "path", r.URL.Path, "err", err)
	msg := "The store could not answer: " + err.Error()
	if strings.Contains(err.Error(), "no such table") || strings.Contains(err.Error(), "does not exist") {
		msg += " — the database has no events table yet: run `leanllm migrate up`."
	}
	d.fail(w, r, http.StatusInternalServerError, msg)
}

var funcs = template.FuncMap{
	"cost":     view.Cost,
	"ms":       view.MS,
	"msf":      view.MSf,
	"int":      func(n any) string { return view.Int(toInt64(n)) },
	"float":    view.Float,
	"time":     view.Time,
	"shortid":  view.ShortID,
	"truncate": view.Truncate,
	"status":   view.Status,
	"tokens":   view.Tokens,
	"ttft":     view.TTFT,
	"pct": func(part, whole any) string {
		p, w := float64(toInt64(part)), float64(toInt64(whole))
		if w == 0 {
			return "0%"
		}
		return view.Float(100*p/w) + "%"
	},
	"eventURL": func(id string) string { return "/events/" + url.PathEscape(id) },
	"traceURL": func(id string) string { return "/traces/" + url.PathEscape(id) },
	"iso":      func(t time.Time) string { return t.UTC().Format(core.TimestampFormat) },
	"add":      func(a, b int) int { return a + b },
	"plural":   func(n any, word string) string { return plural(toInt64(n), word) },
	"deref": func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	},
}

func toInt64(n any) int64 {
	switch x := n.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	case int32:
		return int64(x)
	case float64:
		return int64(x)
	}
	return 0
}
