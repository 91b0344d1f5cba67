# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options shared by every module that talks to AWS (see module_utils/aws.py).
    DOCUMENTATION = r"""
options:
  endpoint_url:
    description:
      - URL of an S3/ELBv2-compatible endpoint, instead of AWS's own (MinIO, a VPC endpoint, a test server).
    type: str
    aliases: [aws_endpoint_url]
  region:
    description:
      - AWS region. Defaults to boto3's usual lookup (C(AWS_REGION), the profile).
    type: str
    aliases: [aws_region]
  profile:
    description:
      - Named profile from the AWS configuration files.
    type: str
    aliases: [aws_profile]
  access_key:
    description:
      - AWS access key id. When omitted, boto3's credential chain applies (environment, profile, instance role).
    type: str
    aliases: [aws_access_key_id]
  secret_key:
    description:
      - AWS secret access key. Never logged or returned.
    type: str
    aliases: [aws_secret_access_key]
  session_token:
    description:
      - AWS session token for temporary credentials. Never logged or returned.
    type: str
    aliases: [aws_session_token]
  aws_connect_timeout:
    description:
      - Seconds to wait for an AWS (or S3-compatible) endpoint to accept a connection, per attempt.
    type: float
    default: 10
  aws_read_timeout:
    description:
      - Seconds to wait for any answer (or the next bytes of one) from the endpoint, per attempt. An endpoint
        that accepts connections and never answers costs at most 3 attempts of this long per call (boto3's
        standard retries; our own retries are for throttling only), never forever.
    type: float
    default: 60
requirements:
  - boto3 on the host that runs the task
"""
