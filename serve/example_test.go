package serve_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/serve"
)

// A model served with Reveal label answers one-hot vectors.
func Example() {
	m := model.NewMLP([]int{2, 3}, model.ActReLU, []string{"a", "b", "c"}, rand.New(rand.NewPCG(1, 1)))
	s, err := serve.New(m, serve.Options{Name: "demo", Reveal: model.Reveal{Mode: model.RevealLabel}})
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	resp, err := http.Post(ts.URL+"/v2/models/demo/infer", "application/json", strings.NewReader(
		`{"id":"42","inputs":[{"name":"input","datatype":"FP32","shape":[1,2],"data":[0,0]}]}`))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	// Output:
	// 200 {"model_name":"demo","id":"42","outputs":[{"name":"probabilities","datatype":"FP32","shape":[1,3],"data":[1,0,0]}]}
}
