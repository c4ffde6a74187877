"""What each carrier says in its scans: status codes and descriptions."""

from __future__ import annotations

from parcelwatch.schemas.types import ExceptionReason

# What each carrier says, as (carrier_status_code, description). USPS is known by its texts more
# than by codes, so some of its events carry no code, as in its real feeds.
_Text = tuple[str | None, str]
_WORDS: dict[str, dict[str, _Text]] = {
    "ups": {
        "label": ("M", "Shipper created a label, UPS has not received the package yet."),
        "pickup": ("P", "Pickup Scan"),
        "arrive": ("I", "Arrived at Facility"),
        "depart": ("I", "Departed from Facility"),
        "cleared": ("I", "Import Scan: released by clearing agency"),
        "resumed": ("I", "Processing at UPS Facility"),
        "facility": ("I", "Destination Scan"),
        "ofd": ("O", "Out For Delivery Today"),
        "delivered": ("D", "Delivered"),
        "ready": ("I", "Delivered to UPS Access Point, awaiting customer pickup"),
        "collected": ("D", "Picked up by the customer at UPS Access Point"),
        "returned": ("RS", "Returned to Sender"),
        "cancelled": ("MV", "Shipment information voided"),
    },
    "fedex": {
        "label": ("OC", "Shipment information sent to FedEx"),
        "pickup": ("PU", "Picked up"),
        "arrive": ("AR", "Arrived at FedEx location"),
        "depart": ("DP", "Departed FedEx location"),
        "cleared": ("CC", "International shipment release - Import"),
        "resumed": ("IT", "In transit"),
        "facility": ("AR", "At local FedEx facility"),
        "ofd": ("OD", "On FedEx vehicle for delivery"),
        "delivered": ("DL", "Delivered"),
        "ready": ("HL", "Ready for recipient pickup"),
        "collected": ("DL", "Delivered - picked up at FedEx location"),
        "returned": ("RS", "Returned to shipper"),
        "cancelled": ("CA", "Shipment cancelled by sender"),
    },
    "usps": {
        "label": ("GX", "Shipping Label Created, USPS Awaiting Item"),
        "pickup": ("OA", "Accepted at USPS Origin Facility"),
        "arrive": ("10", "Arrived at USPS Regional Facility"),
        "depart": ("L1", "Departed USPS Regional Facility"),
        "cleared": (None, "Customs Clearance Processed"),
        "resumed": (None, "In Transit to Next Facility"),
        "facility": ("07", "Arrived at Post Office"),
        "ofd": ("OF", "Out for Delivery"),
        "delivered": ("01", "Delivered, Front Door/Porch"),
        "ready": ("16", "Available for Pickup"),
        "collected": ("01", "Delivered, Individual Picked Up at Post Office"),
        "returned": ("01", "Delivered, To Original Sender"),
        "cancelled": (None, "Label Cancelled"),
    },
    "dhl": {
        "label": (None, "Shipment information received"),
        "pickup": ("PU", "Shipment picked up"),
        "arrive": ("AF", "Arrived at DHL Sort Facility"),
        "depart": ("DF", "Departed Facility"),
        "cleared": ("CR", "Clearance processing complete"),
        "resumed": ("PL", "Processed"),
        "facility": ("AR", "Arrived at DHL Delivery Facility"),
        "ofd": ("WC", "Shipment is out with courier for delivery"),
        "delivered": ("OK", "Delivered"),
        "ready": ("CC", "Awaiting collection by recipient as requested"),
        "collected": ("OK", "Delivered - collected by recipient"),
        "returned": ("OK", "Delivered to shipper"),
        "cancelled": (None, "Shipment cancelled"),
    },
}
_R = ExceptionReason
_EXCEPTION_WORDS: dict[str, dict[ExceptionReason, _Text]] = {
    "ups": {
        _R.WEATHER_DELAY: ("X", "Severe weather conditions have delayed delivery."),
        _R.CARRIER_DELAY: ("X", "A mechanical failure has delayed delivery."),
        _R.CUSTOMS_DELAY: ("X", "The package is being held for a customs clearance review."),
        _R.HELD_FOR_PAYMENT: ("X", "Duties and taxes are due before the package can be released."),
        _R.ADDRESS_ISSUE: ("X", "The address is incomplete; we're updating it."),
        _R.DAMAGED: ("X", "Damage reported. The contents are being evaluated."),
        _R.LOST: ("X", "We're sorry, the package could not be located."),
        _R.MISSORTED: ("X", "The package was missorted and is being rerouted."),
        _R.OTHER: ("X", "An exception occurred; delivery may be delayed."),
    },
    "fedex": {
        _R.WEATHER_DELAY: ("DY", "Delay: Local weather conditions"),
        _R.CARRIER_DELAY: ("DY", "Delay: Operational delay"),
        _R.CUSTOMS_DELAY: ("CD", "Clearance delay - Import"),
        _R.HELD_FOR_PAYMENT: ("CD", "Clearance delay - duties and taxes due"),
        _R.ADDRESS_ISSUE: ("DE", "Incorrect address"),
        _R.DAMAGED: ("SE", "Package damaged"),
        _R.LOST: ("SE", "Package not located"),
        _R.MISSORTED: ("SE", "Package misrouted"),
        _R.OTHER: ("SE", "Shipment exception"),
    },
    "usps": {
        _R.WEATHER_DELAY: (None, "Delayed Due to Weather"),
        _R.CARRIER_DELAY: (None, "In Transit, Arriving Late"),
        _R.CUSTOMS_DELAY: (None, "Held in Customs"),
        _R.HELD_FOR_PAYMENT: (None, "Held in Customs - Payment Required"),
        _R.ADDRESS_ISSUE: (None, "Insufficient Address"),
        _R.DAMAGED: (None, "Damaged, Processed at Facility"),
        _R.LOST: (None, "Missing Mail Search Initiated"),
        _R.MISSORTED: (None, "Missent"),
        _R.OTHER: (None, "Alert"),
    },
    "dhl": {
        _R.WEATHER_DELAY: ("TD", "Delayed due to adverse weather conditions"),
        _R.CARRIER_DELAY: ("TD", "Scheduled for movement to next facility; delayed"),
        _R.CUSTOMS_DELAY: ("CD", "Clearance delay"),
        _R.HELD_FOR_PAYMENT: ("HP", "Held for payment of duties"),
        _R.ADDRESS_ISSUE: ("BA", "Bad address"),
        _R.DAMAGED: ("OH", "Shipment on hold: damaged packaging"),
        _R.LOST: ("OH", "Shipment on hold: could not be located"),
        _R.MISSORTED: ("MS", "Shipment mis-sorted"),
        _R.OTHER: ("OH", "Shipment on hold"),
    },
}
_ATTEMPT_WORDS: dict[str, dict[ExceptionReason, _Text]] = {
    "ups": {
        _R.RECIPIENT_UNAVAILABLE: (
            "X",
            "The receiver was not available for delivery. We'll make a second attempt.",
        ),
        _R.ADDRESS_ISSUE: ("X", "The street number is incorrect. This may delay delivery."),
    },
    "fedex": {
        _R.RECIPIENT_UNAVAILABLE: ("DE", "Customer not available or business closed"),
        _R.ADDRESS_ISSUE: ("DE", "Incorrect address - unable to deliver"),
    },
    "usps": {
        _R.RECIPIENT_UNAVAILABLE: ("02", "Notice Left (No Authorized Recipient Available)"),
        _R.ADDRESS_ISSUE: ("05", "Undeliverable as Addressed"),
    },
    "dhl": {
        _R.RECIPIENT_UNAVAILABLE: ("NH", "Delivery attempted; recipient not home"),
        _R.ADDRESS_ISSUE: ("BA", "Bad address"),
    },
}
_RETURN_WORDS: dict[str, dict[ExceptionReason, _Text]] = {
    "ups": {
        _R.REFUSED: ("RS", "Returning to Sender: The receiver refused the delivery."),
        _R.ADDRESS_ISSUE: ("RS", "Returning to Sender: The address could not be corrected."),
    },
    "fedex": {
        _R.REFUSED: ("RS", "Returning package to shipper: refused by recipient"),
        _R.ADDRESS_ISSUE: ("RS", "Returning package to shipper: incorrect address"),
    },
    "usps": {
        _R.REFUSED: ("04", "Refused"),
        _R.ADDRESS_ISSUE: (None, "Return to Sender Processed"),
    },
    "dhl": {
        _R.REFUSED: ("RD", "Recipient refused delivery"),
        _R.ADDRESS_ISSUE: ("RT", "Returned to shipper: bad address"),
    },
}
