package awsproto

import (
	"errors"
	"fmt"
	"net/http"
)

// Common error codes shared by every AWS JSON service.
const (
	ValidationException                 = "ValidationException"
	SerializationException              = "SerializationException"
	UnknownOperationException           = "UnknownOperationException"
	InternalFailure                     = "InternalFailure"
	MissingAuthenticationTokenException = "MissingAuthenticationTokenException"
	UnrecognizedClientException         = "UnrecognizedClientException"
	InvalidSignatureException           = "InvalidSignatureException"
	IncompleteSignatureException        = "IncompleteSignatureException"
	AccessDeniedException               = "AccessDeniedException"
	RequestEntityTooLargeException      = "RequestEntityTooLargeException"
	ServiceUnavailableException         = "ServiceUnavailableException"
)

// Error is an API error. It is sent with HTTP status Status (400 when zero)
// as {"__type": Code, "message": Message}; Code must be a shape name of the
// service model or one of the common codes above.
type Error struct {
	Code    string
	Message string
	Status  int
}

// Error returns "Code: Message".
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with HTTP status 400 and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

// AsError returns err as an *Error when it is or wraps one, and nil otherwise.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

func (e *Error) status() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}
