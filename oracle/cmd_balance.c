/* SPDX-License-Identifier: Apache-2.0 */
/* shardoracle balance: keys (and bytes) per server against each server's weight share. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "oracle.h"
#include "opts.h"

#define BALANCE_USAGE "shardoracle balance -c CONF [--pool P] [--hex|--sizes] [FILE]"

int sp_oracle_cmd_balance(int argc, char **argv)
{
    struct sp_oracle_opts o;
    const char *conf_path = NULL, *pool_name = NULL;
    sp_oracle_opts_init(&o);
    int rc = sp_oracle_parse_conf_command(argc, argv, "balance", BALANCE_USAGE,
                                          "Keys per server against the weight share, with the "
                                          "figures expected for the\npool's distribution.",
                                          &o, &conf_path, &pool_name);
    if (rc != 0)
        return rc == 1 ? SP_EXIT_OK : rc;
    struct sp_registry *reg = NULL;
    struct sp_conf *conf = NULL;
    const struct sp_conf_pool *pool = NULL;
    struct sp_oracle_side side;
    char err[1024];
    memset(&side, 0, sizeof side);
    rc = sp_oracle_load(&o, conf_path, pool_name, &reg, &conf, &pool);
    if (rc != 0)
        goto out;
    if (sp_oracle_side_init(&side, reg, conf_path, pool, NULL, err, sizeof err) != 0 ||
        sp_oracle_sample(reg, &side, NULL, NULL, o.samples, NULL, err, sizeof err) != 0) {
        rc = sp_oracle_fail("%s: %s", conf_path, err);
        goto out;
    }
    rc = sp_oracle_run_balance(&side, &o);
    if (rc == SP_EXIT_OK)
        rc = sp_oracle_emit_balance(&o, &side);
out:
    sp_oracle_side_release(&side);
    sp_conf_free(conf);
    sp_registry_free(reg);
    return rc;
}
