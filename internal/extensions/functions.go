package extensions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
	"github.com/slipway-cd/slipway/internal/store"
)

// Functions: what Lambda invoke actions run (docs/api-extensions.md,
// "Functions"). A function is stored as its JSON definition (the wire
// shape without name and times), which the Lambda executor reads.

// CreateFunction stores a new function.
func (s *Service) CreateFunction(ctx context.Context, in *slipwayapi.CreateFunctionInput) (*slipwayapi.CreateFunctionOutput, error) {
	def := slipwayapi.Function{Command: in.Command, URL: in.URL, TimeoutSeconds: in.TimeoutSeconds, Environment: maps.Clone(in.Environment)}
	if def.TimeoutSeconds == 0 {
		def.TimeoutSeconds = slipwayapi.DefaultFunctionTimeout
	}
	b, err := json.Marshal(&def)
	if err != nil {
		return nil, fmt.Errorf("extensions: encode function %q: %w", in.FunctionName, err)
	}
	now := s.now()
	rec := &store.Function{Name: in.FunctionName, Definition: b, Created: now, Updated: now}
	if err := s.Store.CreateFunction(ctx, rec); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, awsproto.Errorf(slipwayapi.ResourceConflictException,
				"function %q already exists; delete it first (DeleteFunction) to replace it", in.FunctionName)
		}
		return nil, err
	}
	kind := "command"
	if def.URL != "" {
		kind = "url"
	}
	s.logger().InfoContext(ctx, "created function", "name", in.FunctionName, "kind", kind, "by", awsproto.CallerFrom(ctx).ARN)
	return &slipwayapi.CreateFunctionOutput{Function: wireFunction(rec, &def)}, nil
}

// GetFunction returns a function.
func (s *Service) GetFunction(ctx context.Context, in *slipwayapi.GetFunctionInput) (*slipwayapi.GetFunctionOutput, error) {
	rec, err := s.Store.GetFunction(ctx, in.FunctionName)
	if err != nil {
		return nil, functionNotFound(err, in.FunctionName)
	}
	def, err := decodeFunction(rec)
	if err != nil {
		return nil, err
	}
	return &slipwayapi.GetFunctionOutput{Function: wireFunction(rec, def)}, nil
}

// ListFunctions returns every function by name.
func (s *Service) ListFunctions(ctx context.Context, _ *slipwayapi.ListFunctionsInput) (*slipwayapi.ListFunctionsOutput, error) {
	recs, err := s.Store.ListFunctions(ctx)
	if err != nil {
		return nil, err
	}
	out := &slipwayapi.ListFunctionsOutput{Functions: make([]slipwayapi.Function, 0, len(recs))}
	for _, rec := range recs {
		def, err := decodeFunction(rec)
		if err != nil {
			return nil, err
		}
		out.Functions = append(out.Functions, *wireFunction(rec, def))
	}
	return out, nil
}

// DeleteFunction removes a function. Lambda actions that name it fail
// until a function of that name exists again; invocations in progress go
// on.
func (s *Service) DeleteFunction(ctx context.Context, in *slipwayapi.DeleteFunctionInput) (*slipwayapi.DeleteFunctionOutput, error) {
	if err := s.Store.DeleteFunction(ctx, in.FunctionName); err != nil {
		return nil, functionNotFound(err, in.FunctionName)
	}
	s.logger().InfoContext(ctx, "deleted function", "name", in.FunctionName, "by", awsproto.CallerFrom(ctx).ARN)
	return &slipwayapi.DeleteFunctionOutput{}, nil
}

// decodeFunction decodes a stored function's definition.
func decodeFunction(rec *store.Function) (*slipwayapi.Function, error) {
	var f slipwayapi.Function
	if err := json.Unmarshal(rec.Definition, &f); err != nil {
		return nil, fmt.Errorf("decode function %q: %w", rec.Name, err)
	}
	f.FunctionName = rec.Name
	return &f, nil
}

// wireFunction is def with the stored name and creation time.
func wireFunction(rec *store.Function, def *slipwayapi.Function) *slipwayapi.Function {
	out := *def
	out.FunctionName, out.Created = rec.Name, awsproto.NewTime(rec.Created)
	return &out
}

func functionNotFound(err error, name string) error {
	if errors.Is(err, store.ErrNotFound) {
		return awsproto.Errorf(slipwayapi.ResourceNotFoundException,
			"function %q does not exist; create it with CreateFunction", name)
	}
	return err
}
