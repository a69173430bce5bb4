"""The AWS data layer: aiobotocore in, ``smtop.models`` out, ``smtop.errors`` raised.

Plain async Python: no Textual, no simulator.  The UI and batch mode use
``smtop.aws.console.ConsoleData`` over one ``smtop.aws.session.AwsSession``;
the other modules are their parts.  Nothing is imported here, so the command
line can read a profile (``smtop.aws.signin``) without loading the SDK.
"""
