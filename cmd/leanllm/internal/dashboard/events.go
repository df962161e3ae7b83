package dashboard

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/leanllm/leanllm-go/cmd/leanllm/internal/view"
	"github.com/leanllm/leanllm-go/core"
	"github.com/leanllm/leanllm-go/persist"
)

// Page sizes of the events list.
const (
	defaultLimit = 50
	maxLimit     = 500
)

// filterForm is the events list's filter form, as submitted.
type filterForm struct {
	Model, Provider, CorrelationID string
	ErrorsOnly                     bool
	Since, Until                   string
	Labels                         string // "k=v, k2=v2"
	Limit, Offset                  int
}

// parseFilter reads the form from the query string.
func (d *Dashboard) parseFilter(q url.Values) (filterForm, persist.Filter, []string) {
	var errs []string
	ff := filterForm{
		Model: strings.TrimSpace(q.Get("model")), Provider: strings.TrimSpace(q.Get("provider")),
		CorrelationID: strings.TrimSpace(q.Get("correlation_id")),
		ErrorsOnly:    q.Get("errors") == "1" || q.Get("errors") == "on" || q.Get("errors") == "true",
		Since:         strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until")),
		Labels: strings.TrimSpace(strings.Join(q["label"], ", ")),
		Limit:  defaultLimit,
	}
	f := persist.Filter{Model: ff.Model, Provider: ff.Provider, CorrelationID: ff.CorrelationID, ErrorsOnly: ff.ErrorsOnly}
	now := d.cfg.Now()
	var err error
	if f.Since, err = view.ParseTime(ff.Since, now); err != nil {
		errs = append(errs, "since: "+err.Error())
	}
	if f.Until, err = view.ParseTime(ff.Until, now); err != nil {
		errs = append(errs, "until: "+err.Error())
	}
	for _, part := range strings.Split(ff.Labels, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		k, v, err := view.ParseLabel(part)
		if err != nil {
			errs = append(errs, "label: "+err.Error())
			continue
		}
		if f.Labels == nil {
			f.Labels = map[string]string{}
		}
		f.Labels[k] = v
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			errs = append(errs, "limit: want a number from 1 to "+strconv.Itoa(maxLimit))
		} else {
			ff.Limit = min(n, maxLimit)
		}
	}
	if s := q.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			errs = append(errs, "offset: want a number >= 0")
		} else {
			ff.Offset = n
		}
	}
	f.Limit, f.Offset = ff.Limit, ff.Offset
	return ff, f, errs
}

// query encodes the form, with another offset.
func (ff filterForm) query(offset int) string {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("model", ff.Model)
	set("provider", ff.Provider)
	set("correlation_id", ff.CorrelationID)
	if ff.ErrorsOnly {
		q.Set("errors", "1")
	}
	set("since", ff.Since)
	set("until", ff.Until)
	for _, l := range strings.Split(ff.Labels, ",") {
		if l = strings.TrimSpace(l); l != "" {
			q.Add("label", l)
		}
	}
	if ff.Limit != defaultLimit {
		q.Set("limit", strconv.Itoa(ff.Limit))
	}
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	}
	if len(q) == 0 {
		return "/events"
	}
	return "/events?" + q.Encode()
}

// Row is one event of a list.
type Row struct {
	*core.Event
	Labels [][2]string
}

func rows(events []*core.Event) []Row {
	out := make([]Row, len(events))
	for i, e := range events {
		out[i] = Row{Event: e}
		for _, k := range slices.Sorted(maps.Keys(e.Labels)) {
			out[i].Labels = append(out[i].Labels, [2]string{k, e.Labels[k]})
		}
	}
	return out
}

type eventsData struct {
	Form       filterForm
	Errors     []string
	Rows       []Row
	Total      int64
	From, To   int
	Prev, Next string
	Filtered   bool
}

func (d *Dashboard) events(w http.ResponseWriter, r *http.Request) {
	ff, f, errs := d.parseFilter(r.URL.Query())
	data := eventsData{Form: ff, Errors: errs}
	data.Filtered = ff.query(0) != "/events"
	if len(errs) > 0 {
		d.render(w, r, http.StatusBadRequest, "events", "Events", "events", data)
		return
	}
	ctx := r.Context()
	total, err := d.cfg.Reader.CountEvents(ctx, f)
	if err != nil {
		d.storeError(w, r, err)
		return
	}
	events, err := d.cfg.Reader.ListEvents(ctx, f)
	if err != nil {
		d.storeError(w, r, err)
		return
	}
	data.Rows, data.Total = rows(events), total
	if len(events) > 0 {
		data.From, data.To = ff.Offset+1, ff.Offset+len(events)
	}
	if ff.Offset > 0 {
		data.Prev = ff.query(max(0, ff.Offset-ff.Limit))
	}
	if int64(ff.Offset+len(events)) < total {
		data.Next = ff.query(ff.Offset + ff.Limit)
	}
	d.render(w, r, http.StatusOK, "events", "Events", "events", data)
}

// KV is a key and its value, for tables.
type KV struct{ K, V string }

type eventData struct {
	E          *core.Event
	Labels     []KV
	Parameters []KV
	Metadata   []KV
	Tools      []string
	ToolCalls  []KV
	Children   []Row
	Parent     *core.Event
	JSON       string
	SampleOf   string
}

func (d *Dashboard) event(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx := r.Context()
	e, err := view.ResolveID(ctx, d.cfg.Reader, id)
	switch {
	case errors.Is(err, persist.ErrNotFound):
		d.fail(w, r, http.StatusNotFound, "No event has the id "+strconv.Quote(id)+".")
		return
	case errors.Is(err, view.ErrAmbiguous):
		d.fail(w, r, http.StatusBadRequest, err.Error())
		return
	case err != nil:
		d.storeError(w, r, err)
		return
	}
	data := eventData{E: e}
	for _, k := range slices.Sorted(maps.Keys(e.Labels)) {
		data.Labels = append(data.Labels, KV{k, e.Labels[k]})
	}
	data.Parameters = jsonKVs(e.Parameters)
	data.Metadata = jsonKVs(e.Metadata)
	for _, t := range e.Tools {
		if t.Function != nil {
			data.Tools = append(data.Tools, t.Function.Name)
		}
	}
	for _, tc := range e.ToolCalls {
		kv := KV{K: tc.ID}
		if tc.FunctionCall != nil {
			kv.V = tc.FunctionCall.Name + "(" + tc.FunctionCall.Arguments + ")"
		}
		data.ToolCalls = append(data.ToolCalls, kv)
	}
	if sr := e.Metadata.SampleRate; sr > 0 && sr < 1 {
		data.SampleOf = view.Float(1 / sr)
	}
	if e.ParentRequestID != "" {
		if p, err := d.cfg.Reader.GetEvent(ctx, e.ParentRequestID); err == nil {
			data.Parent = p
		}
	}
	children, err := d.cfg.Reader.ListEvents(ctx, persist.Filter{ParentRequestID: e.EventID, Limit: 100})
	if err == nil {
		slices.Reverse(children)
		data.Children = rows(children)
	}
	b, _ := json.MarshalIndent(e, "", "  ")
	data.JSON = string(b)
	d.render(w, r, http.StatusOK, "event", "Event "+view.ShortID(e.EventID), "events", data)
}

// jsonKVs lists the keys of v's JSON object with their values (strings
// unquoted).
func jsonKVs(v any) []KV {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	out := make([]KV, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		val := string(m[k])
		var s string
		if json.Unmarshal(m[k], &s) == nil {
			val = s
		}
		out = append(out, KV{k, val})
	}
	return out
}
