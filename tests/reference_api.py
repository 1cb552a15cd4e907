"""The public API's own create-campaign bodies, as its documentation shows them.

Source: the hosted voice-campaign service's API reference, page "Create campaign"
(POST /campaign), kept in the project's shared reference folder as
create-campaign-api.txt: the example request body (its curl ``--data``), the example
response, and the field names of the request body schema ("Body") and of the response
schema ("Response").  Transcribed by hand, values unchanged; the documentation writes
``"<string>"`` where a real response has some string.
"""

from __future__ import annotations

from typing import Any

REQUEST_EXAMPLE: dict[str, Any] = {
    "name": "Q1 Customer Outreach",
    "assistantId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    "description": "Follow-up calls for Q1 leads",
    "startDate": "2024-03-15",
    "startTime": "09:00",
    "endTime": "17:00",
    "timezone": "America/New_York",
    "activeDays": [0, 1, 2, 3, 4],
    "daySchedules": {
        "2": {"startTime": "10:00", "endTime": "18:00"},
        "4": {"startTime": "09:00", "endTime": "15:00"},
    },
    "phoneNumber": "+14155551234",
    "callRetries": 3,
    "retryDelaySeconds": 3600,
    "retryDelayMode": "fixed",
    "webhookUrl": "https://api.example.com/webhook/campaign",
    "customers": [
        {
            "phoneNumber": "+14155559001",
            "properties": {"name": "John Doe", "company": "Acme Inc"},
        },
        {
            "phoneNumber": "+14155559002",
            "properties": {"name": "Jane Smith", "company": "Tech Corp"},
        },
    ],
}

RESPONSE_EXAMPLE: dict[str, Any] = {
    "success": True,
    "data": {
        "message": "<string>",
        "result": {
            "status": "<string>",
            "isScheduled": True,
            "campaign": {
                "id": "<string>",
                "name": "<string>",
                "workspaceId": "<string>",
                "createdAt": "<string>",
                "updatedAt": "<string>",
                "assistantId": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
                "phoneNumberId": "<string>",
                "description": "<string>",
                "status": "draft",
                "startDate": "2023-12-25",
                "startTime": "<string>",
                "timezone": "UTC",
                "endTime": "<string>",
                "activeDays": [0, 1, 2, 3, 4, 5, 6],
                "daySchedules": {},
                "phoneNumber": "<string>",
                "callRetries": 0,
                "retryDelaySeconds": 300,
                "retryDelayMode": "fixed",
                "retryConditions": [
                    "No Answer",
                    "Busy",
                    "Timeout",
                    "Unreachable",
                    "Network Error",
                    "Resource Unavailable",
                    "Service Unavailable",
                    "voicemail",
                ],
                "endDate": "2023-12-25",
                "schedulingMode": "even",
                "callIntervalSeconds": 30,
                "maxConcurrency": 5,
                "webhookUrl": "<string>",
                "customers": [],
                "callIds": [],
                "roomNames": [],
                "events": [],
                "version": "v1",
            },
            "message": "<string>",
        },
    },
}

#: The request body schema's fields, in the page's order ("Body", application/json).
REQUEST_SCHEMA_FIELDS = (
    "name",
    "assistantId",
    "assistantName",
    "description",
    "startDate",
    "startTime",
    "timezone",
    "endTime",
    "activeDays",
    "daySchedules",
    "phoneNumber",
    "callRetries",
    "retryDelaySeconds",
    "retryDelayMode",
    "retryConditions",
    "webhookUrl",
    "customers",
    "phoneList",
    "workspaceId",
)

#: The response schema's top-level fields ("Response", 200 "Campaign created").
RESPONSE_SCHEMA_FIELDS = ("success", "data")


def response_campaign() -> dict[str, Any]:
    """The example response's campaign object (a fresh copy)."""
    import copy

    campaign: dict[str, Any] = copy.deepcopy(RESPONSE_EXAMPLE["data"]["result"]["campaign"])
    return campaign
