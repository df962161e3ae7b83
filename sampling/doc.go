// Package sampling decides which successful calls become events.
//
// # Head sampling
//
// [Head] decides before the call, so a sampled-out call builds nothing: no
// event, no content copy, no allocation. The rate comes from the call's
// `sample` setting, else the client's sampling_rate. Errors are always
// recorded, whatever the decision: the enqueue stage builds an error event
// even for a sampled-out call.
//
// # Recorded rate
//
// Every event records the rate that applied in metadata.sample_rate, so
// aggregates can scale counts back up by 1/rate.
package sampling
