package remote_test

import (
	"fmt"

	"github.com/lineage-audit/lineage/remote"
)

func ExampleParseRef() {
	for _, ref := range []string{
		"student.lnm",
		"http://user:pw@127.0.0.1:8080/v2/models/teacher",
		`exec:/usr/bin/python3 "examples/exec/sklearn_model.py"`,
	} {
		r, err := remote.ParseRef(ref)
		if err != nil {
			fmt.Println(err)
			continue
		}
		switch r.Kind {
		case remote.RefFile:
			fmt.Println(r.Kind, r.Path)
		case remote.RefHTTP:
			fmt.Println(r.Kind, r.Base, r.Model)
		case remote.RefExec:
			fmt.Println(r.Kind, r.Argv)
		}
	}
	// Output:
	// file student.lnm
	// http http://127.0.0.1:8080/v2/models/teacher teacher
	// exec [/usr/bin/python3 examples/exec/sklearn_model.py]
}
