package process

import "github.com/newsflow/newsflow/ingest"

var benchEncodings = []struct {
	name   string
	encode func(ingest.RawArticle) []byte
}{
	{"json", func(r ingest.RawArticle) []byte { return mustJSON(r) }},
}
