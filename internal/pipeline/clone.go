package pipeline

import "reflect"

// deepCopy returns a copy of v that shares no pointers, slices or maps with
// it. Nil and empty slices and maps stay nil and empty respectively, so an
// "inputArtifacts": [] survives the copy. Unexported struct fields (as in
// time.Time) are copied by value.
func deepCopy[T any](v T) T {
	src := reflect.ValueOf(&v).Elem()
	dst := reflect.New(src.Type()).Elem()
	dst.Set(copyValue(src))
	return dst.Interface().(T)
}

func copyValue(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		return copyPointer(v)
	case reflect.Slice:
		return copySlice(v)
	case reflect.Map:
		return copyMap(v)
	case reflect.Struct:
		return copyStruct(v)
	default:
		return v
	}
}

func copyPointer(v reflect.Value) reflect.Value {
	if v.IsNil() {
		return reflect.Zero(v.Type())
	}
	n := reflect.New(v.Type().Elem())
	n.Elem().Set(copyValue(v.Elem()))
	return n
}

func copySlice(v reflect.Value) reflect.Value {
	if v.IsNil() {
		return reflect.Zero(v.Type())
	}
	n := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
	for i := range v.Len() {
		n.Index(i).Set(copyValue(v.Index(i)))
	}
	return n
}

func copyMap(v reflect.Value) reflect.Value {
	if v.IsNil() {
		return reflect.Zero(v.Type())
	}
	n := reflect.MakeMapWithSize(v.Type(), v.Len())
	for it := v.MapRange(); it.Next(); {
		n.SetMapIndex(copyValue(it.Key()), copyValue(it.Value()))
	}
	return n
}

func copyStruct(v reflect.Value) reflect.Value {
	n := reflect.New(v.Type()).Elem()
	n.Set(v)
	for i := range v.NumField() {
		if n.Field(i).CanSet() {
			n.Field(i).Set(copyValue(v.Field(i)))
		}
	}
	return n
}
