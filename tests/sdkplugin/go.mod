module github.com/falco-docker/docker-plugin/tests/sdkplugin

go 1.26.8

require github.com/falcosecurity/plugin-sdk-go v0.8.3
