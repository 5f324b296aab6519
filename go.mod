module github.com/falco-docker/docker-plugin

go 1.26.8

require (
	github.com/falcosecurity/plugin-sdk-go v0.8.3
	github.com/tidwall/gjson v1.20.0
)

require (
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.0 // indirect
)
