/*
 * The USB identities of the device models the kiosk ships with: the defaults for the
 * configuration (cash/receipt/card "usb" keys, parsed by usbx_id_parse) and for
 * data/udev/70-kiosk-devices.rules, which must list the same ids.
 */
#pragma once

/*
 * ITL NV9USB / NV200 note validator: Innovative Technology's VID 0x191c. The NV10USB+ was seen
 * as 191c:4104 ("NV10US", bleskomat interface.md) and usb.ids names 191c:4104 "Banknote
 * validator NV-150", so the PID is shared across ITL models (shared/research/cash-acceptor.md
 * §1.9; that the NV9USB uses it too is not verified). It presents as CDC-ACM: the bulk pair is
 * on the data interface, 1; libusb detaches cdc_acm from it.
 */
#define USB_ID_CASH_DEFAULT "191c:4104,if=1"

/*
 * Epson TM receipt printers (TM-T20III, TM-T88V/VI): VID 0x04b8. In the "vendor-defined class"
 * memory-switch setting every model is PID 0x0202; in the printer-class setting the PID is per
 * model (TM-T88VI 0x0e21, TM-T20III 0x0e28) and usblp binds, which the kiosk detaches.
 * Sources: Epson TM-T20III and TM-T88VI technical reference manuals, appendix "USB
 * descriptor"; usb.ids 04b8:0202 "UB-U05 ... [M129C/TM-T70/TM-T88IV]";
 * shared/research/printers.md §1.
 */
#define USB_ID_RECEIPT_DEFAULT "04b8:0202"

/*
 * Evolis card printers: VID 0x0f49 (Evolis SA). usb.ids (Debian package usb.ids 2025.07.26)
 * names only 0f49:0a00 "Zenius", the kiosk model's family (Zenius/KC200 are Evolis' kiosk
 * printers, shared/research/printers.md §2.1). A Primacy's PID is not in any source we could
 * check: configure it from `lsusb` on the unit; the udev rules cover the whole vendor.
 */
#define USB_ID_CARD_DEFAULT "0f49:0a00"
