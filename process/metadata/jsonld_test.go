package metadata

import (
	"reflect"
	"testing"
)

func TestParseJSONLD(t *testing.T) {
	tests := []struct {
		name    string
		scripts []string
		check   func(ldArticle) bool
		want    string
	}{
		{"article wins over breadcrumb and website",
			[]string{`[{"@type":"BreadcrumbList"},{"@type":"WebSite","name":"Site"},{"@type":"NewsArticle","headline":"H","datePublished":"2020-01-02"}]`},
			func(a ldArticle) bool {
				return a.headline == "H" && a.datePublished == "2020-01-02" && a.publisher == "Site"
			}, "headline H, site as publisher"},
		{"entities decoded",
			[]string{`{"@type":"Article","headline":"Caf&eacute; opens","author":{"@type":"Person","name":"Jos&#xE9; Pinto"}}`},
			func(a ldArticle) bool {
				return a.headline == "Café opens" && reflect.DeepEqual(a.authors, []string{"José Pinto"})
			}, "decoded"},
		{"broken JSON keeps its dates",
			[]string{`{"@type":"NewsArticle","datePublished":"2018-05-21T06:00:00-05:00","dateModified":"2018-05-22",}`},
			func(a ldArticle) bool {
				return a.datePublished == "2018-05-21T06:00:00-05:00" && a.dateModified == "2018-05-22"
			}, "dates"},
		{"html comment wrapper",
			[]string{"<!--\n{\"@type\":\"BlogPosting\",\"headline\":\"B\",\"keywords\":\"a, b\"}\n-->"},
			func(a ldArticle) bool { return a.headline == "B" && len(a.keywords) == 2 }, "headline B"},
		{"not JSON at all", []string{"var x = 1;"}, func(a ldArticle) bool { return a.headline == "" && a.datePublished == "" }, "empty"},
	}
	for _, tt := range tests {
		if got := parseJSONLD(tt.scripts); !tt.check(got) {
			t.Errorf("%s: parseJSONLD = %+v, want %s", tt.name, got, tt.want)
		}
	}
}
