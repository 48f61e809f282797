/* The demo data set, loaded idempotently (demo.h; the table is docs/host-demo-data.md). */
#define LOG_MODULE "host-demo"
#include "demo.h"

#include "catalogue.h"
#include "db.h"
#include "kiosk/core/log.h"

/* Keep docs/host-demo-data.md in step with this. ON CONFLICT DO NOTHING everywhere: loading
 * again never resets a balance top-ups moved or a voucher a kiosk spent. */
static const char demo_sql[] =
	"INSERT INTO card (card, status, opening_fils, balance_fils) VALUES"
	" ('7841000024680132', 'active', 2500, 2500),"
	" ('7841000013579022', 'active', 0, 0),"
	" ('7841000099990002', 'blocked', 10000, 10000)"
	" ON CONFLICT (card) DO NOTHING;"
	"INSERT INTO fee_entity (entity, name) VALUES"
	" ('dewa', 'Dubai Electricity and Water Authority'),"
	" ('police', 'Dubai Police'),"
	" ('salik', 'Salik'),"
	" ('rta', 'Roads and Transport Authority'),"
	" ('municipality', 'Dubai Municipality'),"
	" ('courts', 'Dubai Courts'),"
	" ('gdrfa', 'General Directorate of Residency and Foreigners Affairs'),"
	" ('dld', 'Dubai Land Department'),"
	" ('edirham', 'e-Dirham federal services')"
	" ON CONFLICT (entity) DO NOTHING;"
	"INSERT INTO fee_service (entity, service, description) VALUES"
	" ('dewa', 'bill', 'Electricity and water bill'),"
	" ('police', 'fines', 'Traffic fines'),"
	" ('salik', 'topup', 'Salik toll account top-up'),"
	" ('police', 'fines-plate', 'Traffic fines by plate')"
	" ON CONFLICT (entity, service) DO NOTHING;"
	/* The catalogue's own prices (assets/catalogue, each service's `host`): keep in step. */
	"INSERT INTO fee_service (entity, service, description, tariff, amount_fils) VALUES"
	" ('rta', 'vehicle-renewal', 'Vehicle registration renewal', 'fixed', 45000),"
	" ('dewa', 'reconnection', 'Reconnection fee', 'fixed', 20000),"
	" ('police', 'good-conduct', 'Good conduct certificate', 'fixed', 22000),"
	" ('municipality', 'pest-control', 'Pest control service', 'fixed', 15000),"
	" ('municipality', 'food-permit', 'Food permit', 'fixed', 21000),"
	" ('courts', 'case-status', 'Case status certificate', 'fixed', 10000),"
	" ('gdrfa', 'residency-renewal', 'Residency renewal', 'fixed', 35000),"
	" ('gdrfa', 'visit-visa', 'Visit visa', 'fixed', 32000),"
	" ('dld', 'ejari', 'Ejari registration', 'fixed', 22000),"
	" ('dld', 'title-deed', 'Title deed', 'fixed', 25000),"
	" ('edirham', 'card-replacement', 'e-Dirham card replacement', 'fixed', 5000)"
	" ON CONFLICT (entity, service) DO NOTHING;"
	"INSERT INTO fee_service (entity, service, description, tariff, min_fils, max_fils, step_fils) VALUES"
	" ('courts', 'case-fee', 'Court case fee', 'open', 10000, 4000000, 100),"
	" ('edirham', 'service-fee', 'Federal service fee', 'open', 1000, 500000, 100)"
	" ON CONFLICT (entity, service) DO NOTHING;"
	"INSERT INTO fee_account (entity, service, reference, payee, description, kind, due_fils, min_fils,"
	" max_fils, step_fils) VALUES"
	" ('dewa', 'bill', '2000123456', 'Mohammed Ahmed Khan', 'Electricity and water bill', 'fixed', 24550,"
	"  NULL, NULL, NULL),"
	" ('police', 'fines', '10012345', 'Fatima Saeed Al Mansoori', 'Traffic fines', 'items', NULL, NULL, NULL,"
	"  NULL),"
	" ('salik', 'topup', '40012345', 'Rahul Kumar Nair', 'Salik toll account top-up', 'open', NULL, 5000,"
	"  100000, 5000),"
	" ('police', 'fines-plate', '12345', 'Fatima Saeed Al Mansoori', 'Traffic fines', 'items', NULL, NULL, NULL,"
	"  NULL)"
	" ON CONFLICT (entity, service, reference) DO NOTHING;"
	"INSERT INTO fee_item (entity, service, reference, id, description, amount_fils) VALUES"
	" ('police', 'fines', '10012345', 'F-1', 'Speeding, Sheikh Zayed Road', 60000),"
	" ('police', 'fines', '10012345', 'F-2', 'Parking, Deira', 40000),"
	" ('police', 'fines-plate', '12345', 'F-3', 'Red light, Al Khail Road', 80000)"
	" ON CONFLICT (entity, service, reference, id) DO NOTHING;"
	"INSERT INTO voucher (code, value_fils, remaining_fils, expires) VALUES"
	/* e-voucher codes (kiosk/core/vcode.h): 9, fourteen digits, a Damm check digit. */
	" ('9135724680246804', 5000, 5000, '2099-12-31'),"
	" ('9260482601593711', 20000, 20000, '2099-12-31'),"
	" ('9382716059483720', 5000, 0, '2099-12-31'),"
	" ('9473625180937462', 5000, 5000, '2020-01-31')"
	" ON CONFLICT (code) DO NOTHING;";

int demo_load(PGconn *c, struct kio_error *err)
{
	int rc = hdb_begin(c, err);
	if (!rc)
		rc = hdb_exec(c, demo_sql, "load the demo data", err);
	if (!rc)
		rc = hdb_commit(c, err);
	if (rc)
		hdb_rollback(c);
	/* The catalogue it serves is the kiosk's own shipped one (catalogue.h). A host installed
	 * without the kiosk's files serves none (404: the kiosks keep theirs) until `kiosk-host
	 * catalogue load --dir` names a folder; a bad folder is an error. */
	if (!rc) {
		struct kio_error cerr = {0};
		rc = host_catalogue_load(c, host_catalogue_default_dir(), NULL, NULL, 0, &cerr);
		if (rc == KIO_ERR_NOT_FOUND) {
			LOG_WARN("no catalogue served: %s", cerr.msg);
			rc = 0;
		} else if (rc && err) {
			*err = cerr;
		}
	}
	if (!rc)
		LOG_INFO("demo data loaded");
	return rc;
}
