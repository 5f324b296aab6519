module github.com/falco-docker/docker-plugin

go 1.26.8

require (
	github.com/falcosecurity/plugin-sdk-go v0.8.3
	github.com/tidwall/gjson v1.20.0
)

require (
	github.com/docker/docker v28.5.2+incompatible // indirect
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.0 // indirect
	github.com/xeipuuv/gojsonpointer v0.0.0-20190905194746-02993c407bfb // indirect
	github.com/xeipuuv/gojsonreference v0.0.0-20180127040603-bd5ef7bd5415 // indirect
	github.com/xeipuuv/gojsonschema v1.2.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
