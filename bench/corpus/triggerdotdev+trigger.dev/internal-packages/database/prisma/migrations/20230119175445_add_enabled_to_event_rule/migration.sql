-- AlterTable
ALTER TABLE "EventRule" ADD COLUMN     "enabled" BOOLEAN NOT NULL DEFAULT true;
