"""cdk8s constructs: one construct per module, typed props, validated when built."""
