-- AlterTable
ALTER TABLE "JobVersion" ADD COLUMN     "prepared" BOOLEAN NOT NULL DEFAULT false;
