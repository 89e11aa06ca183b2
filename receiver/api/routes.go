package api

import "net/http"

// Route is one endpoint of a version, its Path relative to the version's
// base (/v4 or /tracking/{version}).
type Route struct {
	Method  string
	Path    string
	Handler http.HandlerFunc
}

// Routes are the endpoints version v has, in the order they must be
// matched (fixed segments before {slug}/{tracking_number}). events applies
// the status changes of mark-as-completed.
func (a *API) Routes(v Version, events Events) []Route {
	const (
		get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	)
	rs := []Route{
		{post, "/trackings", a.CreateTracking},
		{get, "/trackings", a.ListTrackings},
		// trackhook's own: the delivery log and its dead letters.
		{get, "/trackings/{id}/deliveries", a.ListDeliveries},
		{post, "/trackings/{id}/deliveries/retry", a.RetryDeliveries},
		{post, "/trackings/{id}/mark-as-completed", a.MarkCompleted(events)},
		{post, "/trackings/{id}/retrack", a.Retrack},
		{get, "/trackings/{id}", a.GetTracking},
		{put, "/trackings/{id}", a.UpdateTracking},
		{del, "/trackings/{id}", a.DeleteTracking},
	}
	if v.BySlug {
		rs = append(rs,
			Route{post, "/trackings/{slug}/{tracking_number}/mark-as-completed", a.MarkCompleted(events)},
			Route{post, "/trackings/{slug}/{tracking_number}/retrack", a.Retrack},
			Route{get, "/trackings/{slug}/{tracking_number}", a.GetTracking},
			Route{put, "/trackings/{slug}/{tracking_number}", a.UpdateTracking},
			Route{del, "/trackings/{slug}/{tracking_number}", a.DeleteTracking},
		)
	}
	if v.Notifications {
		rs = append(rs,
			Route{get, "/last_checkpoint/{id}", a.LastCheckpoint},
			Route{get, "/last_checkpoint/{slug}/{tracking_number}", a.LastCheckpoint},
			Route{get, "/notifications/{id}", a.GetNotification},
			Route{post, "/notifications/{id}/add", a.AddNotification},
			Route{post, "/notifications/{id}/remove", a.RemoveNotification},
			Route{get, "/notifications/{slug}/{tracking_number}", a.GetNotification},
			Route{post, "/notifications/{slug}/{tracking_number}/add", a.AddNotification},
			Route{post, "/notifications/{slug}/{tracking_number}/remove", a.RemoveNotification},
		)
	}
	rs = append(rs, Route{get, "/couriers", a.Couriers}, Route{post, "/couriers/detect", a.DetectCouriers})
	if v.CouriersAll {
		rs = append(rs, Route{get, "/couriers/all", a.Couriers})
	}
	// trackhook's own: the suppression list.
	rs = append(rs,
		Route{get, "/suppressions", a.ListSuppressions},
		Route{post, "/suppressions/add", a.AddSuppressions},
		Route{post, "/suppressions/remove", a.RemoveSuppressions},
		// and previews and test messages.
		Route{post, "/messages/preview", a.PreviewMessage},
		Route{post, "/messages/test", a.SendTestMessage},
		Route{get, "/messages/test/deliveries", a.ListTestDeliveries},
	)
	return rs
}
