package pipeline

// DeepCopy exposes deepCopy to the external tests (package pipeline_test),
// which compare declarations before and after a call.
func DeepCopy[T any](v T) T { return deepCopy(v) }
