# Written by aiops synth beside cdk.tf.json: S3-native state locking (use_lockfile) needs 1.10.
terraform {
  required_version = ">= 1.10"
}
