"""Social's inbox: what the notifier tells of the mail it sent or did not send (`mail.activity`)
and of addresses that refuse mail (`mail.bounced`), consumed inside `social relay`.

`topology` names and declares the queues, `store` writes to the database (without Flask),
`handler` decides what a message means, `consumer` is the connection and the one place that acks.
"""
