"""Where state lives: the only package that creates AWS clients and talks to S3, DynamoDB, SQS, SNS and SES."""
