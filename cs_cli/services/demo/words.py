"""The demo's word lists and fixed tables: names, companies, industries, regions,
titles, features, ticket subjects, NPS comments, touchpoint and task wording, and
the weights that shape them.

Entries are drawn by position from seeded random streams: reordering, adding or
removing one changes the book that a given seed and date produce.
"""

from __future__ import annotations

from cs_cli.domain import Sentiment, TaskOutcome, TaskType, TicketPriority, TouchpointType

DEMO_DOMAIN = "demo.example"  # the CS team's email domain, and the home of meeting recordings

# fmt: off
FIRST = (
    "Maria", "James", "Aisha", "Wei", "Carlos", "Priya", "Liam", "Sofia", "Noah", "Fatima", "Lucas", "Yuki",
    "Emma", "Omar", "Chloe", "Mateo", "Hannah", "Arjun", "Grace", "Diego", "Olivia", "Kenji", "Amara",
    "Ethan", "Zara", "Samuel", "Ines", "David", "Leila", "Jonas", "Nora", "Raj", "Elena", "Tomas", "Mei",
    "Isaac", "Ana", "Felix", "Rosa", "Daniel", "Sara", "Marcus", "Julia", "Hugo", "Alice", "Kwame", "Nina",
    "Pablo", "Lena", "Victor",
)
LAST = (
    "Lopez", "Smith", "Khan", "Chen", "Garcia", "Patel", "Murphy", "Rossi", "Kim", "Hassan", "Silva",
    "Tanaka", "Johnson", "Ali", "Martin", "Fernandez", "Schmidt", "Sharma", "Nguyen", "Okafor", "Brown",
    "Sato", "Mensah", "Wilson", "Novak", "Cohen", "Costa", "Dubois", "Ivanova", "Jensen", "Larsen", "Moreau",
    "Nakamura", "Obi", "Park", "Quinn", "Reyes", "Santos", "Torres", "Walker", "Weber", "Young", "Zhang",
    "Ahmed", "Becker", "Carter", "Diaz", "Evans", "Fischer", "Gupta",
)
PREFIXES = (
    "Northwind", "Bluebird", "Summit", "Evergreen", "Ironwood", "Silverline", "Brightpath", "Cedar",
    "Granite", "Harbor", "Keystone", "Lakeshore", "Maple", "Meridian", "Nimbus", "Oakridge", "Pinnacle",
    "Quantum", "Redwood", "Riverbend", "Sagebrush", "Starlight", "Sterling", "Tidewater", "Trailhead",
    "Vantage", "Westfield", "Willow", "Zephyr", "Aurora", "Beacon", "Cascade", "Cobalt", "Crescent",
    "Driftwood", "Ember", "Falcon", "Foxglove", "Frontier", "Glacier", "Halcyon", "Horizon", "Juniper",
    "Kestrel", "Lighthouse", "Lumen", "Magnolia", "Mosaic", "Nova", "Orchard", "Paragon", "Polaris",
    "Prairie", "Quarry", "Radiant", "Sequoia", "Solstice", "Sparrow", "Thistle", "Topaz", "Upland",
    "Waypoint", "Alder", "Birchwood", "Copperfield", "Highland", "Ridgeline", "Stonebridge", "Clearwater",
    "Fairview",
)
QUALIFIERS = ("Group", "Holdings", "International", "Global", "Ventures", "Worldwide", "Co", "Enterprises")
# industry -> (weight, company name suffixes)
INDUSTRIES: dict[str, tuple[float, tuple[str, ...]]] = {
    "Software": (0.22, ("Analytics", "Software", "Systems", "Labs", "Cloud", "Data")),
    "Financial Services": (0.12, ("Capital", "Financial", "Bancorp", "Insurance", "Payments")),
    "Healthcare": (0.12, ("Health", "Medical", "Clinics", "Biosciences", "Care")),
    "Retail": (0.10, ("Retail", "Foods", "Outfitters", "Market", "Brands")),
    "Manufacturing": (0.10, ("Manufacturing", "Industries", "Robotics", "Materials", "Components")),
    "Logistics": (0.08, ("Logistics", "Freight", "Shipping", "Transport")),
    "Education": (0.06, ("Learning", "Academy", "Education", "Schools")),
    "Media": (0.06, ("Media", "Studios", "Publishing", "Broadcasting")),
    "Energy": (0.06, ("Energy", "Solar", "Power", "Utilities")),
    "Professional Services": (0.08, ("Consulting", "Partners", "Advisors", "Associates")),
}
# region -> (weight, first working hour in UTC, timezones)
REGIONS: dict[str, tuple[float, int, tuple[str, ...]]] = {
    "North America": (0.45, 13, ("America/New_York", "America/Chicago", "America/Denver",
                                 "America/Los_Angeles", "America/Toronto")),
    "EMEA": (0.30, 7, ("Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Amsterdam", "Europe/Madrid",
                       "Asia/Dubai")),
    "APAC": (0.15, 0, ("Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", "Asia/Kolkata")),
    "LATAM": (0.10, 12, ("America/Sao_Paulo", "America/Mexico_City", "America/Bogota")),
}
STAFF_TIMEZONES = (
    "America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "Europe/Berlin",
)
TEAMS = {2: ("Enterprise", "Commercial"), 3: ("Enterprise", "Mid-Market", "Commercial")}
TEAM_SHARES = {2: (0.3, 0.7), 3: (0.2, 0.35, 0.45)}  # of accounts, largest ARR first

CHAMPION_TITLES = (
    "Director of Operations", "Head of Analytics", "VP Customer Operations", "Senior Operations Manager",
    "Head of Revenue Operations", "Director of Business Systems", "Analytics Lead",
)
EXEC_TITLES = (
    "Chief Operating Officer", "Chief Technology Officer", "VP of Engineering", "Chief Financial Officer",
    "SVP Operations", "Chief Data Officer",
)
BILLING_TITLES = ("Finance Manager", "Accounts Payable Specialist", "Controller", "Procurement Lead")
USER_TITLES = (
    "Data Analyst", "Operations Specialist", "Business Analyst", "Project Coordinator", "Support Lead",
    "Marketing Manager", "Software Engineer", "Team Lead", "Systems Administrator",
)

# In the order accounts adopt them: breadth N means the first N are in use.
FEATURES = (
    "login", "dashboard_view", "search", "report_export", "user_invited", "comment_added", "workflow_run",
    "file_upload", "alert_configured", "integration_sync", "api_call", "custom_report_created",
)
# Chance a contact uses a feature on a day they log in, and the most uses in a day.
FEATURE_P = (1.0, 0.85, 0.6, 0.35, 0.06, 0.4, 0.45, 0.3, 0.05, 0.25, 0.3, 0.12)
FEATURE_Q = (2, 10, 12, 4, 2, 6, 25, 4, 1, 6, 300, 1)
FEATURE_WORDS = (
    "logins", "dashboards", "search", "report exports", "user invitations", "comments", "workflows",
    "file uploads", "alerts", "integrations", "the API", "custom reports",
)

TICKETS = (
    ("Cannot export report to Excel", TicketPriority.NORMAL),
    ("SSO login failing for new users", TicketPriority.HIGH),
    ("API returns 429 rate limit errors", TicketPriority.HIGH),
    ("Dashboard loading slowly", TicketPriority.NORMAL),
    ("Question about seat count on invoice", TicketPriority.LOW),
    ("Workflow stuck in pending state", TicketPriority.HIGH),
    ("Integration sync missing records", TicketPriority.HIGH),
    ("Request: bulk user import", TicketPriority.LOW),
    ("Permissions not applied to new team", TicketPriority.NORMAL),
    ("Numbers in monthly report do not match", TicketPriority.NORMAL),
    ("Production outage: app not loading", TicketPriority.URGENT),
    ("Webhook deliveries failing", TicketPriority.HIGH),
    ("How do I schedule a report?", TicketPriority.LOW),
    ("Data export job timed out", TicketPriority.NORMAL),
    ("Password reset email not arriving", TicketPriority.NORMAL),
    ("Alert notifications sent twice", TicketPriority.LOW),
)
TICKET_LEVELS = (TicketPriority.LOW, TicketPriority.NORMAL, TicketPriority.HIGH, TicketPriority.URGENT)

NPS_COMMENTS = {
    "promoter": (
        "Great product, the team uses it every day.", "Support is quick and genuinely helpful.",
        "Dashboards are now part of our weekly ops review.", "Our CSM really understands our business.",
        "Workflows save us hours every week.", "Easy to roll out to new teams.",
        "Reliable, and it keeps getting better.",
    ),
    "passive": (
        "Good overall, but reporting could be more flexible.",
        "Solid tool; onboarding new users takes a while.",
        "Does what we need. Pricing is on the high side.", "Would like more integrations.",
        "Fine most days, slow at month end.", "Useful, but only a few of us really use it.",
    ),
    "detractor": (
        "Too many open support issues lately.", "We are not getting the value we expected for the price.",
        "Hard to use for our wider team.", "Since our admin left nobody really owns it.",
        "Sync errors keep breaking our reports.", "Slow dashboards and slow answers from support.",
        "We are evaluating alternatives before renewal.",
    ),
}

TOPICS = (
    "onboarding", "adoption", "renewal", "pricing", "integrations", "reporting", "performance", "support",
    "roadmap", "training", "expansion", "security",
)
CONCERNS = (
    "slow dashboards", "a missing integration", "pricing at renewal", "the number of open tickets",
    "low adoption outside their team", "data sync errors", "losing their internal admin",
)
EMAIL_SUBJECTS = (
    "Your monthly usage summary", "New: {feature} improvements", "Invitation: quarterly product webinar",
    "Checking in on {feature}", "Resources to get more from {feature}", "Following up on our call",
    "Release notes: what's new this month",
)
CALL_SUBJECTS = ("Check-in call with {contact}", "Usage review call", "Call: plans for next quarter")
MEETING_SUBJECTS = ("Adoption workshop: {feature}", "Roadmap preview", "Success plan review",
                     "Admin training session")
WEBINAR_SUBJECTS = ("Webinar: getting started with {feature}", "Webinar: release highlights")
IN_APP_SUBJECTS = ("In-app tip: try {feature}", "Announcement: new dashboard filters")
TALK = {
    Sentiment.POSITIVE: (
        "{contact} is happy with the rollout; the team uses {feature} daily. Talked about adding seats.",
        "Good conversation. {contact} shared a win from {feature} and agreed to a case study call.",
        "{contact} confirmed goals are on track and wants a roadmap preview next quarter.",
    ),
    Sentiment.NEUTRAL: (
        "Routine check-in. {contact} asked about {feature}; sent documentation afterwards.",
        "Reviewed usage with {contact}. No blockers, a few questions about {feature}.",
        "{contact} is busy with a reorg; agreed to pick up again next month.",
    ),
    Sentiment.NEGATIVE: (
        "{contact} raised concerns about {concern}. Agreed to follow up within a week.",
        "Tense call. {contact} said {concern} is hurting their team; wants a plan before renewal.",
        "{contact} is unhappy about {concern} and questioned the value for the price.",
    ),
}
QBR_NOTES = {
    Sentiment.POSITIVE: "Reviewed outcomes and ROI with {contact}; goals met, expansion is next.",
    Sentiment.NEUTRAL: "Walked {contact} through usage and roadmap; adoption of {feature} is the focus.",
    Sentiment.NEGATIVE: "{contact} challenged the value delivered; {concern} dominated the review.",
}
# (task type, title, description); {names} are filled from the account.
ROUTINE_TASKS = (
    (TaskType.CALL, "Check-in call with {contact}", "Monthly check-in: usage, open questions, next steps."),
    (TaskType.EMAIL, "Send usage summary to {contact}", "Share last month's adoption numbers and one tip."),
    (TaskType.MEETING, "Adoption workshop: {feature}", "Walk {contact}'s team through {feature}."),
    (TaskType.REVIEW, "Review account plan for {company}", "Update goals, stakeholders and risks."),
    (TaskType.INTERNAL, "Update CRM notes for {company}", "Log stakeholders and recent conversations."),
    (TaskType.FOLLOW_UP, "Follow up on ticket: {ticket}", "Check support closed the loop with {contact}."),
    (TaskType.MEETING, "Prepare QBR for {company}", "Build the deck: usage, outcomes, roadmap, asks."),
)
RISK_TASKS = {
    "usage_decline": (TaskType.REVIEW, "Investigate usage drop at {company}",
                      "Active users and feature breadth are down; find out why and agree a recovery plan."),
    "champion_left": (TaskType.CALL, "Find a new champion at {company}",
                      "{champion} has left; map the new stakeholders and onboard the new admin."),
    "support_trouble": (TaskType.ESCALATION, "Escalation review: {ticket}",
                        "Open escalation; agree a remediation plan with support and product."),
    "late_payment": (TaskType.EMAIL, "Chase overdue invoice with {billing}",
                     "An invoice is past due; confirm the payment date."),
    "low_nps": (TaskType.MEETING, "Executive check-in with {executive}",
                "Recent NPS responses are low; re-confirm goals and value before renewal."),
}
OUTCOME_NOTES = {
    TaskOutcome.SUCCESSFUL: ("Done; {contact} confirmed next steps.", "Went well; follow-up booked.",
                             "{contact} is happy with the plan.", "Completed; notes shared with the team."),
    TaskOutcome.UNSUCCESSFUL: ("{contact} did not see the value; revisit with their manager.",
                               "Could not agree on next steps.", "Blocked by a budget freeze on their side."),
    TaskOutcome.RESCHEDULED: ("{contact} asked to move it to next week.", "Moved: conflicting offsite."),
    TaskOutcome.NO_RESPONSE: ("No reply after two emails and a voicemail.", "{contact} did not show up."),
}
# plan -> (touchpoint types, weights): the bigger the account, the more human the touch.
TOUCH_MIX = {
    "Starter": ((TouchpointType.EMAIL_SENT, TouchpointType.WEBINAR, TouchpointType.IN_APP_MESSAGE,
                 TouchpointType.CALL, TouchpointType.MEETING), (50, 15, 15, 15, 5)),
    "Growth": ((TouchpointType.EMAIL_SENT, TouchpointType.CALL, TouchpointType.MEETING,
                TouchpointType.WEBINAR, TouchpointType.IN_APP_MESSAGE), (35, 25, 20, 10, 10)),
    "Enterprise": ((TouchpointType.EMAIL_SENT, TouchpointType.CALL, TouchpointType.MEETING,
                    TouchpointType.WEBINAR, TouchpointType.IN_APP_MESSAGE), (25, 25, 35, 5, 10)),
}
BLOCKED_REASONS = ("Waiting on the customer's security review", "Waiting for a product fix",
                    "Champion on leave until next month")
TIME_SPENT = {
    TaskType.CALL: (15, 60), TaskType.EMAIL: (5, 20), TaskType.MEETING: (30, 90), TaskType.REVIEW: (20, 120),
    TaskType.INTERNAL: (10, 60), TaskType.FOLLOW_UP: (10, 45), TaskType.ESCALATION: (30, 180),
    TaskType.CUSTOM: (15, 60),
}
# fmt: on
