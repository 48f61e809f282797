/*
 * Every string the kiosk shows or prints: its stable id, which the PO files carry as msgctxt,
 * and its English source text (msgid). `ninja -C build kiosk-pot` runs xgettext over this file
 * to make locales/kiosk.pot; README "Catalogues" says how to add a string.
 */
#include "i18n-priv.h"

/* clang-format off */
const struct i18n_id i18n_ids[] = {
	/* The attract screen and the home screen. */
	I18N_S("brand.name", "e-Dirham"),
	I18N_S("lang.name", "English"),
	I18N_S("attract.welcome", "Welcome"),
	I18N_S("attract.tagline", "Top up your e-Dirham card, buy a new card and pay government fees in cash"),
	I18N_S("attract.choose", "Choose your language"),
	I18N_S("home.title", "e-Dirham services"),
	I18N_S("home.prompt", "What would you like to do?"),
	I18N_S("home.topup", "Top up card"),
	I18N_S("home.topup.sub", "Add credit to your e-Dirham card"),
	I18N_S("home.buy_card", "Buy a new card"),
	I18N_S("home.buy_card.sub", "Get a new e-Dirham card printed here"),
	I18N_S("home.fees", "Pay government fees"),
	I18N_S("home.fees.sub", "Police fines, DEWA, Salik, RTA, municipality, residency"),
	I18N_S("home.balance", "Card balance"),
	I18N_S("home.balance.sub", "Check the credit on your card"),
	I18N_S("home.unavailable", "Not available right now"),
	I18N_S("common.cancel", "Cancel"),
	I18N_S("common.back", "Back"),
	I18N_S("soon.message", "This service is coming soon to this kiosk."),
	/* The top-up journey (kiosk/screens/topup.c; the flow's message ids: kiosk/flows/topup.h). */
	I18N_S("topup.title", "Top up e-Dirham card"),
	I18N_S("nav.next", "Next"),
	I18N_S("key.del", "Delete"),
	I18N_S("key.clear", "Clear"),
	I18N_S("topup.card.enter", "Type the 16-digit card number."),
	I18N_S("topup.card.incomplete", "A card number has 16 digits: keep typing."),
	I18N_S("topup.card.bad-prefix", "This is not an e-Dirham card number. Check the number on your card."),
	I18N_S("topup.card.bad-luhn", "This card number is not valid: a digit may be mistyped. Check it and correct it."),
	I18N_S("topup.card.ok", "The card number is complete. Press Next."),
	I18N_S("topup.card.checking", "Checking your card with the e-Dirham system. Please wait."),
	I18N_S("topup.card.blocked", "This card is blocked and cannot be topped up. No money was taken."),
	I18N_S("topup.card.unknown", "This card number is not registered in the e-Dirham system. Check the number. No money was taken."),
	I18N_S("topup.card.needs-host", "This top-up needs the e-Dirham system to confirm earlier top-ups. Please try later. No money was taken."),
	I18N_S("topup.card.label", "Card number"),
	I18N_S("topup.pay.title", "Insert cash"),
	I18N_S("topup.pay.no-change", "No change is given: every dirham you insert is added to your card."),
	/* TRANSLATORS: {notes} is the list of banknote values the acceptor takes, e.g. 5  10  20. */
	I18N_S("topup.pay.notes", "Notes accepted (AED): {notes}"),
	/* TRANSLATORS: {min} and {max} are amounts with their currency, e.g. AED 10.00; keep both. */
	I18N_S("topup.pay.limits", "Minimum {min}, maximum {max}"),
	/* TRANSLATORS: {amount} is the card's balance as the e-Dirham system gave it, with its currency (AED 25.00). */
	I18N_S("topup.pay.balance", "Card balance: {amount}"),
	I18N_S("topup.pay.balance-needs-host", "Your card balance needs the e-Dirham system and cannot be shown now."),
	/* TRANSLATORS: {max} is an amount with its currency (AED 40.00): the most this top-up can take while
	 * earlier top-ups wait for the e-Dirham system. */
	I18N_S("topup.pay.offline-max", "Until the e-Dirham system confirms earlier top-ups, this top-up can take at most {max}."),
	I18N_S("topup.pay.insert", "Insert your notes one at a time."),
	I18N_S("topup.pay.closing", "Please wait: the last note is being settled."),
	I18N_S("topup.pay.total", "Total inserted"),
	/* TRANSLATORS: how many banknotes the customer has inserted so far; {count} is the number.
	 * A form used for one number only (Arabic 0, 1 and 2) may leave {count} out. */
	I18N_P("topup.pay.count", "{count} note inserted", "{count} notes inserted"),
	I18N_S("topup.pay.finish", "Finish"),
	I18N_S("topup.pay.finish-with-paid", "Finish with what I paid"),
	I18N_S("topup.pay.note-over-max", "Note returned: it would take the total above the maximum."),
	I18N_S("topup.pay.note-returned", "Note returned to you. Please take it."),
	I18N_S("topup.pay.note-rejected", "This note was not accepted. Try another note."),
	I18N_S("topup.pay.note-not-recorded", "Note returned: the kiosk could not record it. Nothing was counted."),
	I18N_S("topup.pay.acceptor-fault", "The note acceptor has stopped. What you paid is kept and is credited when you finish."),
	I18N_S("topup.pay.acceptor-recovered", "The note acceptor works again: you can insert notes."),
	I18N_S("topup.pay.acceptor-unavailable", "Cash cannot be accepted right now. Please try again later."),
	I18N_S("topup.receipt.unavailable", "No receipt can be printed. Please write down the transaction number."),
	I18N_S("topup.done.title", "Top-up complete"),
	I18N_S("topup.done.credited", "Amount credited"),
	I18N_S("topup.done.number", "Transaction number"),
	/* TRANSLATORS: {amount} is the balance the e-Dirham system gave plus this top-up, with its currency. */
	I18N_S("topup.done.new-balance", "Card balance after this top-up: {amount}"),
	I18N_S("topup.done.take-receipt", "Please take your receipt."),
	I18N_S("topup.done.receipt-failed", "No receipt could be printed. Please write down your transaction number."),
	I18N_S("topup.done.queued-for-sync", "The credit reaches your card when the kiosk next connects to the e-Dirham system."),
	I18N_S("topup.done.note-unsettled", "A note was held by a fault and is not in this amount. Keep the transaction number and contact customer service."),
	I18N_S("topup.done.close", "Done"),
	I18N_S("topup.error.ledger", "This kiosk cannot record payments right now: out of service."),
	/* Device notices: status.<device>.<fault name> (drivers/class), "starting" while a driver sets
	 * the device up. kiosk/app.c builds these ids; test-i18n checks every device and fault has one. */
	I18N_S("status.cash.jam", "Cash payment is unavailable: the note acceptor is jammed."),
	I18N_S("status.cash.stacker-full", "Cash payment is unavailable: the cash box is full."),
	I18N_S("status.cash.cashbox-removed", "Cash payment is unavailable: the cash box is out for service."),
	I18N_S("status.cash.fraud", "Cash payment is unavailable: the note acceptor is locked for security."),
	I18N_S("status.cash.no-answer", "Cash payment is unavailable: the note acceptor is not responding."),
	I18N_S("status.cash.disconnect", "Cash payment is unavailable: the note acceptor is disconnected."),
	I18N_S("status.receipt.paper-near-end", "Receipt paper is running low."),
	I18N_S("status.receipt.paper-out", "Receipts cannot be printed: the printer is out of paper."),
	I18N_S("status.receipt.cover-open", "Receipts cannot be printed: the printer cover is open."),
	I18N_S("status.receipt.error", "Receipts cannot be printed: the printer reports an error."),
	I18N_S("status.receipt.disconnect", "Receipts cannot be printed: the printer is disconnected."),
	I18N_S("status.card.feeder-empty", "New cards are unavailable: no blank cards left."),
	I18N_S("status.card.ribbon-out", "New cards are unavailable: the card printer ribbon is finished."),
	I18N_S("status.card.ribbon-low", "The card printer ribbon is running low."),
	I18N_S("status.card.jam", "New cards are unavailable: a card is jammed in the printer."),
	I18N_S("status.card.cover-open", "New cards are unavailable: the card printer cover is open."),
	I18N_S("status.card.disconnect", "New cards are unavailable: the card printer is disconnected."),
	I18N_S("status.cash.starting", "Cash payment is starting up. Please wait a moment."),
	/* The acceptor holds notes from before a restart that nothing can prove credited or
	 * returned (drivers/host/essp/essp-cash.c invariant 5): cash waits for a technician. */
	I18N_S("status.cash.undecided", "Cash payment is unavailable: the note acceptor is waiting for a technician's check."),
	I18N_S("status.receipt.starting", "The receipt printer is starting up."),
	I18N_S("status.card.starting", "The card printer is starting up."),
	/* Out of service: the store cannot record money (kiosk/app.c, invariant 1). */
	I18N_S("status.store.write-failed", "Out of service: this kiosk cannot record payments right now."),
	/* Start-up recovery (or the store back in service) is still ending a transaction an
	 * interruption left open: payments wait a moment (kiosk/recovery.h). */
	I18N_S("status.kiosk.starting", "The kiosk is starting up: payments are available in a moment. Please wait."),
	/* The fees journey (kiosk/flows/fees.h, kiosk/screens/fees.c). */
	I18N_S("fees.title", "Government fees"),
	I18N_S("fees.entity.prompt", "Choose the government entity"),
	/* TRANSLATORS: under an entity's name: how many services it offers here. */
	I18N_P("fees.entity.count", "{count} service", "{count} services"),
	I18N_S("fees.service.prompt", "Choose the service"),
	/* TRANSLATORS: under a service's name; {amount} is its fee, e.g. AED 400.00. */
	I18N_S("fees.service.fixed", "Fixed fee: {amount}"),
	I18N_S("fees.service.inquiry", "The amount due is looked up with your number"),
	/* TRANSLATORS: under a service's name; {min} and {max} are amounts, e.g. AED 50.00. */
	I18N_S("fees.service.open", "Choose an amount from {min} to {max}"),
	I18N_S("fees.service.needs-host", "Needs the connection to the entity, which is not available now"),
	/* TRANSLATORS: {entity} is the entity's name, {service} the service's, e.g. "Dubai Police: Traffic fines". */
	I18N_S("fees.what", "{entity}: {service}"),
	/* TRANSLATORS: over the number being typed; {name} is the reference's name (e.g. "Traffic
	 * file number"), {digits} how many digits it has. */
	I18N_S("fees.reference.name", "{name} ({digits} digits)"),
	/* TRANSLATORS: {name} is the reference's name; {min} and {max} the fewest and most digits it has. */
	I18N_S("fees.reference.name-range", "{name} ({min} to {max} digits)"),
	I18N_S("fees.reference.enter", "Type the number on the keypad, then press Next."),
	I18N_S("fees.reference.empty", "Type the number first."),
	/* TRANSLATORS: {min} is the fewest digits the number has. */
	I18N_S("fees.reference.short", "This number is too short: it has at least {min} digits."),
	/* TRANSLATORS: {max} is the most digits the number has. */
	I18N_S("fees.reference.long", "This number is too long: it has at most {max} digits."),
	I18N_S("fees.reference.char", "Only digits can be typed here."),
	I18N_S("fees.reference.check", "This number is mistyped: please check it."),
	I18N_S("fees.reference.ok", "The number is complete. Press Next."),
	I18N_S("fees.reference.checking", "Looking up what is due with the entity. Please wait."),
	I18N_S("fees.reference.unknown", "The entity does not know this number: please check it."),
	I18N_S("fees.reference.nothing-due", "Nothing is due on this number, or all of it is in your basket."),
	I18N_S("fees.reference.needs-host", "Looking this up needs the connection to the entity, which is not available now. Fixed fees can still be added."),
	I18N_S("fees.reference.host-error", "The entity cannot answer now. Please try again later."),
	I18N_S("fees.amount.due", "Amount due"),
	/* TRANSLATORS: {payee} is the name the entity holds, masked (M*** A*** K***). */
	I18N_S("fees.amount.payee", "Name: {payee}"),
	I18N_S("fees.amount.choose-bills", "Choose what to pay"),
	I18N_S("fees.amount.in-basket", "in your basket"),
	I18N_S("fees.amount.choose", "Choose or type the amount."),
	/* TRANSLATORS: {min}, {max} and {step} are amounts, e.g. AED 50.00. */
	I18N_S("fees.amount.limits", "From {min} to {max}, in steps of {step}"),
	I18N_S("fees.amount.below-min", "This amount is below the minimum."),
	I18N_S("fees.amount.above-max", "This amount is above the maximum."),
	I18N_S("fees.amount.off-step", "The amount must go up from the minimum in whole steps."),
	I18N_S("fees.amount.none-chosen", "Choose at least one item."),
	/* TRANSLATORS: the buttons that lower and raise the amount one step: signs, not words (an en
	 * dash for minus: the kiosk's fonts have no U+2212). */
	I18N_S("fees.amount.less", "–"),
	I18N_S("fees.amount.more", "+"),
	I18N_S("fees.add", "Add to basket"),
	I18N_S("basket.title", "Your basket"),
	I18N_S("basket.empty", "Your basket is empty."),
	I18N_S("basket.total", "Total"),
	I18N_S("basket.more", "Add another"),
	I18N_S("basket.pay", "Pay"),
	I18N_S("basket.remove", "Remove"),
	/* TRANSLATORS: a basket too long for the screen shows a page of it; {first}, {last} and
	 * {count} are numbers: "Items 1 to 5 of 10". */
	I18N_S("basket.page", "Items {first} to {last} of {count}"),
	/* TRANSLATORS: the buttons to the previous and next page of the basket: signs, not words,
	 * pointing to where the page is in reading order (right to left: the previous page is
	 * to the right). */
	I18N_S("basket.page.prev", "‹"),
	I18N_S("basket.page.next", "›"),
	I18N_S("basket.full", "Your basket is full: pay, or remove an item first."),
	/* The fees flow's paying half (kiosk/flows/feespay.h). */
	I18N_S("basket.needs-host", "Without the connection only fees that do not need it can be paid: remove the items that need it, or pay later."),
	I18N_S("basket.offline-limit", "Without the connection this kiosk cannot take this much now: remove an item, or pay later."),
	I18N_S("pay.title", "Pay your fees"),
	I18N_S("pay.no-change", "No change is given: anything you pay over the total goes to your e-Dirham card or an e-voucher, your choice."),
	I18N_S("pay.due", "Total due"),
	I18N_S("pay.paid", "Paid"),
	I18N_S("pay.remaining", "Still to pay"),
	/* TRANSLATORS: keep the {placeholders}; they are replaced by amounts, codes or dates. */
	I18N_S("pay.largest", "Largest note accepted now: {amount}"),
	I18N_S("pay.insert", "Insert your notes"),
	I18N_S("pay.voucher", "Pay with an e-voucher"),
	I18N_S("pay.closing", "Finishing with the note in the acceptor"),
	I18N_S("pay.finish-rest", "Stop and keep what I paid"),
	/* TRANSLATORS: keep the {placeholders}; they are replaced by amounts, codes or dates. */
	I18N_S("pay.note-over-cap", "Note returned: it would pay too much over the total. Largest note accepted now: {amount}"),
	I18N_S("pay.note-not-needed", "Note returned: the total is already paid."),
	I18N_S("pay.note-returned", "Note returned."),
	I18N_S("pay.note-rejected", "This note was not accepted. Try another note."),
	I18N_S("pay.note-not-recorded", "Note returned: the kiosk could not record it."),
	I18N_S("pay.acceptor-fault", "The note acceptor stopped. What you paid is kept: stop to choose where it goes."),
	I18N_S("pay.acceptor-recovered", "The note acceptor works again."),
	I18N_S("pay.acceptor-unavailable", "Cash cannot be taken now."),
	I18N_S("settle.asking", "Paying your fees with each authority…"),
	I18N_S("change.title", "Your remaining money"),
	/* TRANSLATORS: keep the {placeholders}; they are replaced by amounts, codes or dates. */
	I18N_S("change.rest", "To place: {amount}"),
	I18N_S("change.why-over", "You paid more than the total."),
	I18N_S("change.why-refused", "An authority refused an item: its amount is yours."),
	I18N_S("change.why-unpaid", "The total was not reached: nothing was paid to the authorities."),
	I18N_S("change.prompt", "No change is given. Where should it go?"),
	I18N_S("change.card", "To my e-Dirham card"),
	I18N_S("change.voucher", "An e-voucher"),
	I18N_S("change.card.title", "Your e-Dirham card"),
	I18N_S("change.card.checking", "Checking your card…"),
	I18N_S("change.card.blocked", "This card is blocked: choose an e-voucher or another card."),
	I18N_S("change.card.unknown", "This card is not known: check the number, or choose an e-voucher."),
	I18N_S("change.card.needs-host", "This card cannot be credited without the connection now: choose an e-voucher."),
	I18N_S("fees.done.title", "Payment done"),
	/* TRANSLATORS: keep the {placeholders}; they are replaced by amounts, codes or dates. */
	I18N_S("fees.done.paid", "You paid {amount}"),
	I18N_S("fees.done.line.paid", "Paid"),
	I18N_S("fees.done.line.refused", "Refused"),
	I18N_S("fees.done.line.offline", "Accepted offline"),
	I18N_S("fees.done.line.unpaid", "Not paid"),
	I18N_S("fees.done.line.unconfirmed", "To be confirmed"),
	I18N_S("fees.done.offline", "The authorities could not be reached now: your payment is confirmed when the kiosk connects."),
	/* TRANSLATORS: keep the {placeholders}; they are replaced by amounts, codes or dates. */
	I18N_S("fees.done.voucher", "e-Voucher {code}: {amount}, valid until {date}"),
	/* TRANSLATORS: keep the {placeholders}; they are replaced by amounts, codes or dates. */
	I18N_S("fees.done.card", "{amount} added to card {card}"),
	I18N_S("fees.error.ledger", "The kiosk cannot record money now: out of service."),
	/* The specimen screen (`goto specimen`, developers only). */
	/* TRANSLATORS: the specimen screen shows the text engine's hard cases to developers;
	 * translate freely, keeping the kind of case each line shows. */
	I18N_S("specimen.title", "Text specimen"),
	I18N_S("specimen.cap.lam_alef", "Lam-alef ligature"),
	I18N_S("specimen.lam_alef", "Arabic in English: لا · الإمارات العربية المتحدة"),
	I18N_S("specimen.cap.harakat", "Harakat on their letters"),
	I18N_S("specimen.harakat", "Name: مُحَمَّد, greeting: بِسْمِ اللَّهِ"),
	I18N_S("specimen.cap.tatweel", "Tatweel (kashida)"),
	I18N_S("specimen.tatweel", "Stretched: كـــتـــاب"),
	I18N_S("specimen.cap.amounts", "Amounts"),
	I18N_S("specimen.amount.local", "AED 150.00"),
	I18N_S("specimen.amount.code", "1,250.00 درهم"),
	I18N_S("specimen.amount.total", "Amount: AED 1,250.00"),
	I18N_S("specimen.cap.brackets", "Brackets"),
	I18N_S("specimen.brackets", "e-Dirham card (بطاقة الدرهم الإلكتروني)"),
	I18N_S("specimen.cap.numbers", "Phone and reference numbers"),
	/* TRANSLATORS: in a right-to-left language, keep each phone number between LRI (U+2066)
	 * and PDI (U+2069): without the isolate an RTL line shows "800 4444" as "4444 800". */
	I18N_S("specimen.phone", "Phone: +971 4 123 4567 · Toll-free: 800 4444"),
	I18N_S("specimen.reference", "Reference: TXN-2027-000123"),
	I18N_S("specimen.cap.digits", "Eastern Arabic digits (option)"),
	I18N_S("specimen.digits", "Amount: 1,250.00 درهم"),
	I18N_S("specimen.cap.paragraph", "A long wrapped paragraph"),
	I18N_S("specimen.paragraph", "Top up your e-Dirham card (بطاقة الدرهم الإلكتروني) with notes from AED 5 to AED 1,000, and pay Salik, RTA (هيئة الطرق والمواصلات) and municipality fees. The receipt shows the reference TXN-2027-000123 and the amount 1,250.00 درهم; for help call 800 4444."),
	I18N_S("specimen.cap.large", "Large text"),
	I18N_S("specimen.large", "Welcome AED 150.00"),
	/* What is printed: the technician's test print, the card face, the receipt. */
	I18N_S("testprint.banner", "TEST PRINT - NOT A RECEIPT"),
	I18N_S("card.title", "e-Dirham Card"),
	I18N_S("card.issuer", "e-Dirham Kiosk"),
	I18N_S("receipt.title", "Payment Receipt"),
	I18N_S("receipt.kiosk", "Kiosk"),
	I18N_S("receipt.date", "Date"),
	I18N_S("receipt.reference", "Reference"),
	I18N_S("receipt.service", "Service"),
	I18N_S("receipt.card", "Card"),
	I18N_S("receipt.amount", "Amount"),
	I18N_S("receipt.fee", "Fee"),
	I18N_S("receipt.total", "Total"),
	I18N_S("receipt.paid", "Paid in cash"),
	I18N_S("receipt.credit", "Credited to card"),
	/* TRANSLATORS: {amount} is replaced by the figure, e.g. 150.00; keep it, on the side
	 * where the currency reads naturally. */
	I18N_S("receipt.money", "AED {amount}"),
	I18N_S("receipt.notes", "Banknotes"),
	/* TRANSLATORS: how many banknotes paid, on the receipt; {count} is the number. A form used
	 * for one number only (Arabic 0, 1 and 2) may leave {count} out; every other form keeps it. */
	I18N_P("receipt.notes.count", "{count} note", "{count} notes"),
	I18N_S("receipt.thanks", "Thank you for using e-Dirham"),
	/* A real transaction's receipt (kiosk/txreceipt.c). */
	I18N_S("receipt.service.topup", "e-Dirham card top-up"),
	I18N_S("receipt.txn_id", "Transaction ID"),
	/* TRANSLATORS: one row per note value on the receipt, e.g. "2 × AED 100"; {count} is how
	 * many notes, {note} the note's value as receipt.money writes it. Keep both. */
	I18N_S("receipt.notes.denom", "{count} × {note}"),
	I18N_S("receipt.no_change", "This kiosk gives no change."),
	I18N_S("receipt.recovered", "Recovered after an interruption: the kiosk restarted during this payment and completed it with the cash it had received."),
	/* TRANSLATORS: printed above and below a receipt printed again after a restart. */
	I18N_S("receipt.duplicate", "DUPLICATE"),
	I18N_S("card.number", "Card No."),
	/* TRANSLATORS: {date} is replaced by the month of issue, e.g. 2027-03; keep it. */
	I18N_S("card.issued", "Issued {date}"),
	/* TRANSLATORS: printed above the receipt's QR code, which carries the receipt's signed
	 * record (docs/receipts.md): anyone can check with a phone that the kiosk issued it. */
	I18N_S("receipt.verify", "Scan to check this receipt is genuine"),
	/* The receipt of a fees transaction (kiosk/print/fees.c). */
	I18N_S("receipt.service.fees", "Government fees"),
	/* TRANSLATORS: heads each item of a fees receipt, before its entity and service names;
	 * {n} is its number, 1, 2, 3... */
	I18N_S("receipt.fees.line", "Item {n}"),
	I18N_S("receipt.fees.reference", "Reference number"),
	I18N_S("receipt.fees.status.paid", "Paid"),
	I18N_S("receipt.fees.status.refused", "Refused, not paid"),
	I18N_S("receipt.fees.status.offline", "Accepted offline"),
	I18N_S("receipt.fees.status.unpaid", "Not paid"),
	I18N_S("receipt.fees.status.unconfirmed", "To be confirmed"),
	I18N_S("receipt.fees.host_ref", "Payment reference"),
	I18N_S("receipt.fees.items_paid", "Paid for the items"),
	/* TRANSLATORS: a voucher paid into the payment; {code} is its number, all but the last
	 * four digits hidden. */
	I18N_S("receipt.fees.voucher_in", "Paid by e-voucher {code}"),
	I18N_S("receipt.fees.total_paid", "Total paid"),
	I18N_S("receipt.fees.voucher_new", "Balance as a new e-voucher"),
	I18N_S("receipt.fees.voucher_code", "e-Voucher code"),
	I18N_S("receipt.fees.voucher_expires", "Valid until"),
	/* TRANSLATORS: above the new e-voucher's own QR code on the receipt. */
	I18N_S("receipt.fees.voucher_scan", "Your e-voucher: scan or type this code at any e-Dirham kiosk before it expires"),
	I18N_S("receipt.fees.recovered", "Recovered after an interruption: the kiosk restarted during this payment. Items not yet confirmed are settled with the entity; the balance is on the e-voucher below."),
	/* Paying with an e-voucher (kiosk/screens/vpay.c; the machine's message ids: kiosk/flows/vpay.h). */
	I18N_S("voucher.title", "Pay with an e-voucher"),
	/* TRANSLATORS: {amount} is what the basket still owes. */
	I18N_S("voucher.remaining", "Still to pay: {amount}"),
	I18N_S("voucher.label", "e-Voucher code"),
	I18N_S("voucher.check", "Check voucher"),
	I18N_S("voucher.use", "Use voucher"),
	I18N_S("voucher.enter", "Type the 16-digit code printed on your e-voucher."),
	I18N_S("voucher.incomplete", "An e-voucher code has 16 digits."),
	I18N_S("voucher.bad-prefix", "e-Voucher codes start with 9. This may be a card number."),
	I18N_S("voucher.bad-check", "This code is not valid: a digit may be mistyped. Check it and correct it."),
	I18N_S("voucher.ok", "The code is complete. Press Check voucher."),
	I18N_S("voucher.checking", "Checking your e-voucher with the e-Dirham system. Please wait."),
	/* TRANSLATORS: {amount} is the voucher's value, {date} its last valid day (YYYY-MM-DD). */
	I18N_S("voucher.valid", "This e-voucher is worth {amount} and is valid until {date}."),
	/* TRANSLATORS: {amount} is the voucher's value. */
	I18N_S("voucher.value", "This e-voucher is worth {amount}."),
	I18N_S("voucher.whole", "An e-voucher is used once: its whole value goes into this payment."),
	/* TRANSLATORS: {amount} is how much the voucher is worth beyond what is still owed. */
	I18N_S("voucher.excess", "That is {amount} more than you owe. At the end you choose: a new e-voucher for it, or a credit to your e-Dirham card."),
	I18N_S("voucher.redeeming", "Using your e-voucher. Please wait."),
	I18N_S("voucher.unknown", "This e-voucher code is not known. Check the code."),
	I18N_S("voucher.spent", "This e-voucher has already been used."),
	I18N_S("voucher.expired", "This e-voucher has expired."),
	I18N_S("voucher.needs-host", "e-Vouchers need the e-Dirham system, which cannot be reached now. Pay in cash or try later."),
	I18N_S("voucher.host-error", "The e-Dirham system did not accept this e-voucher now. Try again or pay in cash."),
	I18N_S("voucher.unconfirmed", "Your e-voucher could not be confirmed and keeps its value. Press Check voucher to try again, or pay in cash."),
	I18N_S("voucher.too-many", "No more e-vouchers can be used in this payment. Pay the rest in cash."),
	I18N_S("voucher.error.ledger", "The kiosk cannot record payments and is out of service. Your e-voucher keeps its value."),
};
/* clang-format on */

const size_t i18n_ids_count = sizeof(i18n_ids) / sizeof(i18n_ids[0]);
