package report_test

import (
	"os"

	"github.com/lineage-audit/lineage/report"
)

func ExampleRender() {
	t := report.Table{
		Title:   "Suspects",
		Columns: []report.Column{{Name: "model"}, {Name: "p-value"}, {Name: "verdict"}},
		Notes:   []string{"alpha = 0.01"},
	}
	t.AddRow(report.Text("student-a"), report.Fmt(0.00012, 'g', 2), report.Text("derived"))
	t.AddRow(report.Text("other"), report.Fmt(0.43, 'g', 2), report.Text("independent"))
	if err := report.Render(os.Stdout, t, report.FormatMarkdown); err != nil {
		panic(err)
	}
	// Output:
	// ### Suspects
	//
	// | model     | p-value | verdict     |
	// | :-------- | ------: | :---------- |
	// | student-a | 0.00012 | derived     |
	// | other     |    0.43 | independent |
	//
	// - alpha = 0.01
}

func ExampleRenderKV() {
	var kv report.KV
	kv.Add("epochs", report.Int(20)).Add("loss", report.Float(0.01234, 3))
	if err := report.RenderKV(os.Stdout, kv, report.FormatJSON); err != nil {
		panic(err)
	}
	// Output:
	// {
	//   "epochs": 20,
	//   "loss": 0.01234
	// }
}
