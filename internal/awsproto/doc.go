// Package awsproto implements the server side of the AWS JSON 1.1 protocol:
// routing by X-Amz-Target, request decoding with clear SerializationException
// errors, model-constraint violations reported as ValidationException, the
// error and response envelopes the AWS clients expect (__type, message,
// x-amzn-RequestId), epoch-second timestamps, and a hook for SigV4
// authentication.
//
// Services register typed handlers with [Handle]; a [Server] dispatches to
// them. Wire types are generated from the AWS models by the shapegen command.
package awsproto
