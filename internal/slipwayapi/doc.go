// Package slipwayapi holds the wire shapes of Slipway's own API, the
// extension service Slipway_20261122 (SigV4 signing name "slipway"), and a
// small Go client for it.
//
// The service speaks AWS JSON 1.1 like CodePipeline_20150709 and is served
// by the same awsproto.Server on the same endpoint, so it takes the same
// access keys and answers errors in the same envelope
// ({"__type": ..., "message": ...}). Its operations:
//
//   - ListEvents: the event log (EventBridge envelopes of execution, stage
//     and action state changes and approval notifications), in ID order.
//   - PutNotificationTarget, GetNotificationTarget, ListNotificationTargets,
//     DeleteNotificationTarget: the HTTP endpoints that receive manual
//     approval notifications.
//
// The shapes are written by hand (there is no AWS model of this service);
// their Validate methods enforce the constraints docs/api-extensions.md
// documents, and run on the server before a handler sees a request.
package slipwayapi
