"""The policywatch operator command: drives a deployed stack through boto3 (not shipped to Lambda)."""
