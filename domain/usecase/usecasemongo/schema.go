package usecasemongo

import (
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/p2psandbox/hub/domain/usecase"
)

// Validator is the collection's $jsonSchema: the rules every stored document obeys (usecase's
// MaxFieldChars and MaxListItems, a version from 1), derived from usecase.Content by reflection so
// that a field added to Content is covered without editing this file. check applies the same
// rules before a write, for servers that take no validator (FerretDB; see doc.go).
//
// It holds no category enum and no title length of the form's steps: those bind at submission,
// and a draft holds whatever autosave accepted (usecase.MaxFieldChars). It requires no field of
// the content either, and does not refuse unknown ones: during a rolling update the older and the
// newer service write side by side, and each applies its validator when it starts.
func Validator() bson.D {
	return bson.D{{Key: "$jsonSchema", Value: bson.D{
		{Key: "bsonType", Value: "object"},
		{Key: "required", Value: bson.A{"_id", fieldUseCase, fieldVersion, fieldContent}},
		{Key: "properties", Value: bson.D{
			{Key: "_id", Value: bson.D{{Key: "bsonType", Value: "string"}}},
			{Key: fieldUseCase, Value: bson.D{{Key: "bsonType", Value: "string"}, {Key: "minLength", Value: 1}}},
			{Key: fieldVersion, Value: bson.D{{Key: "bsonType", Value: bson.A{"int", "long"}}, {Key: "minimum", Value: 1}}},
			{Key: fieldContent, Value: schemaOf(reflect.TypeFor[usecase.Content]())},
		}},
	}}}
}

// schemaOf is the $jsonSchema of a value of t as the driver encodes it with JSON struct tags: nil
// slices and pointers are BSON nulls.
func schemaOf(t reflect.Type) bson.D {
	switch t.Kind() {
	case reflect.String:
		return bson.D{{Key: "bsonType", Value: "string"}, {Key: "maxLength", Value: usecase.MaxFieldChars}}
	case reflect.Float64:
		return bson.D{{Key: "bsonType", Value: "double"}}
	case reflect.Pointer:
		s := schemaOf(t.Elem())
		s[0].Value = bson.A{s[0].Value, "null"}
		return s
	case reflect.Slice:
		return bson.D{
			{Key: "bsonType", Value: bson.A{"array", "null"}},
			{Key: "maxItems", Value: usecase.MaxListItems},
			{Key: "items", Value: schemaOf(t.Elem())},
		}
	case reflect.Struct:
		props := bson.D{}
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			props = append(props, bson.E{Key: jsonName(f), Value: schemaOf(f.Type)})
		}
		return bson.D{{Key: "bsonType", Value: "object"}, {Key: "properties", Value: props}}
	}
	// A kind Content does not hold yet: fail loudly in the tests rather than validate nothing.
	panic(fmt.Sprintf("usecasemongo: no schema for %s", t))
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

// check applies Validator's rules to a document before it is written.
func check(version int, c usecase.Content) error {
	if version < 1 {
		return fmt.Errorf("version %d is below 1", version)
	}
	var bad []string
	walk(reflect.ValueOf(c), "", func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			if utf8.RuneCountInString(v.String()) > usecase.MaxFieldChars {
				bad = append(bad, fmt.Sprintf("%s holds more than %d characters", path, usecase.MaxFieldChars))
			}
		case reflect.Slice:
			if v.Len() > usecase.MaxListItems {
				bad = append(bad, fmt.Sprintf("%s holds more than %d items", path, usecase.MaxListItems))
			}
		}
	})
	if len(bad) > 0 {
		return fmt.Errorf("the document breaks the collection's schema: %s", strings.Join(bad, "; "))
	}
	return nil
}

func walk(v reflect.Value, path string, fn func(string, reflect.Value)) {
	fn(path, v)
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				walk(v.Field(i), strings.TrimPrefix(path+"."+jsonName(f), "."), fn)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i), fn)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			walk(v.Elem(), path, fn)
		}
	}
}
